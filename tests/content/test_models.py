from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from content.models import Status, Video
from content.validators import validate_image, validate_webvtt
from tests.content.factories import ArticleFactory, PageFactory, VideoFactory

pytestmark = pytest.mark.django_db


def _image(fmt: str = "PNG", name: str = "foto.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue())


def test_hero_image_without_alt_text_is_refused() -> None:
    article = ArticleFactory.build(hero_image=_image())
    with pytest.raises(ValidationError) as error:
        article.full_clean()
    assert "hero_image_alt_es" in error.value.message_dict


def test_hero_image_with_alt_text_is_accepted() -> None:
    article = ArticleFactory.build(
        hero_image=_image(), hero_image_alt_es="Sala de lectura de la biblioteca"
    )
    article.full_clean()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_jpeg_png_and_webp_images_are_accepted(fmt: str) -> None:
    validate_image(_image(fmt, f"foto.{fmt.lower()}"))


def test_a_gif_is_refused_as_unsupported() -> None:
    with pytest.raises(ValidationError) as error:
        validate_image(_image("GIF", "foto.gif"))
    assert error.value.code == "image_type"


def test_a_non_image_named_like_an_image_is_refused() -> None:
    fake = SimpleUploadedFile("foto.jpg", b"%PDF-1.7 not an image at all")
    with pytest.raises(ValidationError) as error:
        validate_image(fake)
    assert error.value.code == "not_an_image"


def test_an_image_over_5_mb_is_refused() -> None:
    big = _image("PNG")
    big.size = 5 * 1024 * 1024 + 1
    with pytest.raises(ValidationError) as error:
        validate_image(big)
    assert error.value.code == "image_too_large"


@pytest.mark.parametrize(
    ("provider", "url"),
    [
        ("youtube-nocookie", "https://www.youtube-nocookie.com/embed/abc123"),
        ("vimeo", "https://player.vimeo.com/video/123456"),
        ("peertube", "https://framatube.org/videos/embed/9c9de5e8-0a1e-484a-b099"),
    ],
)
def test_privacy_enhanced_players_are_accepted(provider: str, url: str) -> None:
    VideoFactory.build(provider=provider, embed_url=url).full_clean()


@pytest.mark.parametrize(
    ("provider", "url"),
    [
        ("youtube-nocookie", "https://www.youtube.com/embed/abc123"),
        ("youtube-nocookie", "http://www.youtube-nocookie.com/embed/abc123"),
        ("vimeo", "https://evil.example/player.vimeo.com/video/1"),
        ("vimeo", "https://player.vimeo.com.evil.example/video/1"),
        ("peertube", "https://peertube.evil.example/videos/embed/1"),
    ],
)
def test_other_video_hosts_are_refused(provider: str, url: str) -> None:
    with pytest.raises(ValidationError) as error:
        VideoFactory.build(provider=provider, embed_url=url).full_clean()
    assert "embed_url" in error.value.message_dict


def test_a_video_cannot_be_published_without_a_transcript() -> None:
    video = VideoFactory.build(transcript_es="", status=Status.PUBLISHED)
    with pytest.raises(ValidationError) as error:
        video.full_clean()
    assert "transcript_es" in error.value.message_dict


def test_a_draft_video_may_lack_a_transcript() -> None:
    VideoFactory.build(transcript_es="").full_clean()


def test_an_uploaded_video_needs_its_file() -> None:
    video = VideoFactory.build(provider=Video.Provider.FILE, embed_url="")
    with pytest.raises(ValidationError) as error:
        video.full_clean()
    assert "video_file" in error.value.message_dict


def test_webvtt_captions_are_accepted() -> None:
    cues = b"\xef\xbb\xbfWEBVTT\n\n00:00.000 --> 00:01.000\nHola\n"  # with a UTF-8 BOM
    validate_webvtt(SimpleUploadedFile("es.vtt", cues))


def test_captions_without_the_webvtt_header_are_refused() -> None:
    srt = b"1\n00:00:00,000 --> 00:00:01,000\nHola\n"
    with pytest.raises(ValidationError) as error:
        validate_webvtt(SimpleUploadedFile("es.vtt", srt))
    assert error.value.code == "not_webvtt"


def test_webvttx_is_not_webvtt() -> None:
    with pytest.raises(ValidationError):
        validate_webvtt(SimpleUploadedFile("es.vtt", b"WEBVTTX\n"))


def test_reading_time_is_words_over_200_rounded_up() -> None:
    article = ArticleFactory.build(body_es="<p>" + "palabra " * 401 + "</p>")
    assert article.reading_minutes == 3


def test_duplicate_slug_in_the_same_language_is_refused_with_a_clear_message() -> None:
    ArticleFactory(slug_es="horario-verano")
    duplicate = ArticleFactory.build(slug_es="horario-verano")
    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()
    assert "Ya existe un artículo con este identificador en este idioma." in str(error.value)


def test_the_same_slug_in_another_language_is_allowed() -> None:
    ArticleFactory(slug_es="agenda", slug_en="")
    ArticleFactory.build(slug_es="agenda-cultural", slug_en="agenda").full_clean()


def test_untranslated_slugs_do_not_collide() -> None:
    ArticleFactory(slug_ca="")
    ArticleFactory(slug_ca="")  # two empty Catalan slugs: both untranslated


def test_duplicate_slug_is_refused_by_the_database_too() -> None:
    from django.db import IntegrityError, transaction

    PageFactory(slug_ca="serveis")
    with pytest.raises(IntegrityError), transaction.atomic():
        PageFactory(slug_ca="serveis")


def test_a_page_cannot_be_its_own_ancestor() -> None:
    root = PageFactory()
    child = PageFactory(parent=root)
    assert child.ancestors() == [root]
    root.parent = child
    with pytest.raises(ValidationError) as error:
        root.full_clean()
    assert "parent" in error.value.message_dict
