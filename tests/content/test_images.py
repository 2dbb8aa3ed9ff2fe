"""Images in article and page bodies: the library, the sanitiser and the alt-text rule."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from PIL import Image
from playwright.sync_api import Page as PlaywrightPage
from playwright.sync_api import expect

from content.models import Article, ContentImage, Page
from content.richtext import rich_text_clean
from inbound.models import sanitize_html
from tests.content.factories import ArticleFactory, PageFactory
from tests.content.test_admin import _form as article_form
from tests.content.test_public_pages import live
from tests.e2e.accessibility import assert_accessible
from tests.e2e.test_staff_pages import sign_in

pytestmark = pytest.mark.django_db

OWN = "/media/content/images/2025/03/biblioteca.png"


def image_bytes(image_format: str = "PNG", size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, image_format)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def admin_url(name: str, *args: Any, language: str = "en") -> str:
    with translation.override(language):
        return reverse(name, args=args or None)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def library_image(**fields: Any) -> ContentImage:
    return ContentImage.objects.create(
        image=upload("biblioteca.png", image_bytes()),
        alt_text=fields.pop("alt_text", "Sala de lectura de la biblioteca"),
        **fields,
    )


# --- The sanitiser ---------------------------------------------------------------------------


def test_an_image_from_our_media_is_kept_with_its_size_and_lazy_loading() -> None:
    html = rich_text_clean(
        f'<figure class="figure"><img src="{OWN}" alt="Sala de lectura" width="640" '
        'height="480" data-file="3"><figcaption>La sala, reformada</figcaption>'
        "</figure>"
    )
    assert html == (
        f'<figure><img src="{OWN}" alt="Sala de lectura" width="640" height="480" '
        'loading="lazy"><figcaption>La sala, reformada</figcaption></figure>'
    )


@pytest.mark.parametrize(
    "src",
    [
        "https://tracker.example/pixel.png",
        "//tracker.example/media/content/images/x.png",
        "http://localhost/media/content/images/x.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "&#106;avascript:alert(1)",
        "/static/img/logo.svg",
        "/media/../admin/",
        "/media/content/%2e%2e/%2E%2E/admin/",
        "/media/content/images/x.png?track=1",
        "/media/content/images/x.png#top",
        "/media/content\\images\\x.png",
        "/media/",
        "/media//tracker.example/x.png",
        "media/content/images/x.png",
        " /media/content/images/x.png",
    ],
)
def test_an_image_from_anywhere_else_is_removed(src: str) -> None:
    html = rich_text_clean(f'<p>Antes<img src="{src}" alt="Foto">después</p>')
    assert html == "<p>Antesdespués</p>"


def test_an_image_without_address_is_removed_but_its_caption_stays() -> None:
    html = rich_text_clean('<figure><img alt="Foto"><figcaption>Pie</figcaption></figure>')
    assert html == "<figure><figcaption>Pie</figcaption></figure>"


def test_image_sizes_must_be_plain_numbers() -> None:
    html = rich_text_clean(f'<img src="{OWN}" alt="Foto" width="100%" height="0">')
    assert html == f'<img src="{OWN}" alt="Foto" loading="lazy">'


def test_an_image_with_a_handler_keeps_only_its_safe_attributes() -> None:
    html = rich_text_clean(
        f'<img src="{OWN}" alt="x&quot; onerror=&quot;alert(1)" onerror="alert(1)" '
        'style="position:fixed" srcset="https://tracker.example/a.png 2x">'
    )
    assert html == f'<img src="{OWN}" alt="x&quot; onerror=&quot;alert(1)" loading="lazy">'


def test_legal_texts_still_take_no_images() -> None:
    assert sanitize_html(f'<p>Texto<img src="{OWN}" alt="Foto"></p>') == "<p>Texto</p>"


# --- Alternative text is required ----------------------------------------------------------


def test_an_article_with_an_image_without_alt_text_is_not_saved(editor: Any) -> None:
    response = client_for(editor).post(
        admin_url("admin:content_article_add"),
        article_form(body_es=f'<figure><img src="{OWN}"><figcaption>Pie</figcaption></figure>'),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["body_es"] == [
        "Every image needs alternative text (Spanish): open each image and describe what it shows."
    ]
    assert "Every image needs alternative text (Spanish)" in response.content.decode()
    assert not Article.objects.exists()


def test_the_error_names_the_language_whose_image_has_no_alt_text(editor: Any) -> None:
    response = client_for(editor).post(
        admin_url("admin:content_article_add"),
        article_form(
            body_es=f'<p><img src="{OWN}" alt="Sala de lectura"></p>',
            title_en="New library",
            slug_en="new-library",
            body_en=f'<p><img src="{OWN}" alt="   "></p>',
        ),
    )
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["body_en"]
    assert "(English)" in errors["body_en"][0]
    assert not Article.objects.exists()


def test_an_article_whose_images_have_alt_text_is_saved(editor: Any) -> None:
    body = f'<figure><img src="{OWN}" alt="Sala de lectura"><figcaption>Pie</figcaption></figure>'
    response = client_for(editor).post(
        admin_url("admin:content_article_add"), article_form(body_es=body)
    )
    assert response.status_code == 302
    assert Article.objects.get().body_es == (
        f'<figure><img src="{OWN}" alt="Sala de lectura" loading="lazy">'
        "<figcaption>Pie</figcaption></figure>"
    )


def test_an_image_from_elsewhere_is_dropped_rather_than_asked_about(editor: Any) -> None:
    response = client_for(editor).post(
        admin_url("admin:content_article_add"),
        article_form(body_es='<p>Texto<img src="https://tracker.example/a.png"></p>'),
    )
    assert response.status_code == 302
    assert Article.objects.get().body_es == "<p>Texto</p>"


def test_a_page_with_an_image_without_alt_text_is_not_saved(editor: Any) -> None:
    page = PageFactory()
    data = {
        "title_es": page.title_es,
        "slug_es": page.slug_es,
        "body_es": f'<p><img src="{OWN}" alt=""></p>',
        "order": "0",
        "parent": "",
        "meta_title_es": "",
        "meta_description_es": "",
        "publish_at_0": "",
        "publish_at_1": "",
    }
    for language in ("ca", "eu", "gl", "en"):
        for name in ("title", "slug", "body", "meta_title", "meta_description"):
            data[f"{name}_{language}"] = ""
    response = client_for(editor).post(admin_url("admin:content_page_change", page.pk), data)
    assert response.status_code == 200
    assert "Every image needs alternative text (Spanish)" in response.content.decode()
    page.refresh_from_db()
    assert "<img" not in page.body_es


def test_full_clean_skips_the_languages_a_form_leaves_out() -> None:
    article = ArticleFactory.build(body_en=f'<p><img src="{OWN}"></p>')
    article.full_clean(exclude=["body_en"], validate_unique=False, validate_constraints=False)


# --- On the public site -----------------------------------------------------------------------


def test_a_body_image_is_shown_on_the_article_page(client: Client) -> None:
    image = library_image()
    article = ArticleFactory(
        **live(),
        body_es=f'<figure><img src="{image.image.url}" alt="Sala de lectura"><figcaption>'
        "La sala</figcaption></figure>",
    )
    with translation.override("es"):
        path = reverse("content:article-detail", kwargs={"slug": article.slug_es})
    html = client.get(path).content.decode()
    assert (
        f'<figure><img src="{image.image.url}" alt="Sala de lectura" loading="lazy">'
        "<figcaption>La sala</figcaption></figure>"
    ) in html


# --- The image library in the admin -------------------------------------------------------------


def test_editor_uploads_an_image_with_its_alternative_text(editor: Any) -> None:
    response = client_for(editor).post(
        admin_url("admin:content_contentimage_add"),
        {"image": upload("sala.png", image_bytes()), "alt_text": "Sala de lectura"},
    )
    assert response.status_code == 302
    image = ContentImage.objects.get()
    assert image.alt_text == "Sala de lectura"
    assert image.uploaded_by == editor
    assert image.image.url.startswith("/media/content/images/")


def test_the_change_page_shows_the_address_to_paste_and_a_preview(editor: Any) -> None:
    image = library_image()
    html = (
        client_for(editor)
        .get(admin_url("admin:content_contentimage_change", image.pk))
        .content.decode()
    )
    assert f'readonly value="{image.image.url}" aria-label="Image address"' in html
    assert f'<img src="{image.image.url}" alt="Sala de lectura de la biblioteca"' in html
    assert 'name="image"' not in html  # the file is not replaced: texts point at it


def test_images_are_searched_by_alternative_text(editor: Any) -> None:
    library_image(alt_text="Autobús eléctrico")
    library_image(alt_text="Piscina municipal")
    html = (
        client_for(editor)
        .get(admin_url("admin:content_contentimage_changelist") + "?q=piscina")
        .content.decode()
    )
    assert "Piscina municipal" in html
    assert "Autobús eléctrico" not in html


def test_an_image_needs_alternative_text(editor: Any) -> None:
    response = client_for(editor).post(
        admin_url("admin:content_contentimage_add"),
        {"image": upload("sala.png", image_bytes()), "alt_text": ""},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["alt_text"] == ["This field is required."]
    assert not ContentImage.objects.exists()


def _noise_png(min_bytes: int) -> bytes:
    side = int((min_bytes / 3) ** 0.5) + 16
    noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG", compress_level=0)
    assert buffer.tell() > min_bytes
    return buffer.getvalue()


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script>'
    b'<rect width="10" height="10"/></svg>'
)
NOT_AN_IMAGE = (
    "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
)


@pytest.mark.parametrize(
    ("name", "content", "content_type", "message"),
    [
        ("acta.pdf", b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF", "application/pdf", NOT_AN_IMAGE),
        (
            "foto.png",
            b"<html><script>alert(1)</script></html>",
            "image/png",
            NOT_AN_IMAGE,
        ),
        ("logo.svg", SVG, "image/svg+xml", NOT_AN_IMAGE),
        ("logo.png", SVG, "image/png", NOT_AN_IMAGE),
        (
            "animacion.gif",
            image_bytes("GIF"),
            "image/gif",
            "Unsupported image type. Upload a JPEG, PNG or WebP image.",
        ),
    ],
    ids=["pdf", "html-renamed-png", "svg", "svg-renamed-png", "gif"],
)
def test_a_file_that_is_not_an_allowed_image_is_refused(
    editor: Any, name: str, content: bytes, content_type: str, message: str
) -> None:
    response = client_for(editor).post(
        admin_url("admin:content_contentimage_add"),
        {"image": upload(name, content, content_type), "alt_text": "Algo"},
    )
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors["image"]
    assert not ContentImage.objects.exists()


def test_an_image_over_five_megabytes_is_refused(editor: Any) -> None:
    response = client_for(editor).post(
        admin_url("admin:content_contentimage_add"),
        {"image": upload("grande.png", _noise_png(5 * 1024 * 1024)), "alt_text": "Grande"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["image"] == [
        "The image is too large (maximum 5 MB)."
    ]
    assert not ContentImage.objects.exists()


def test_analyst_sees_the_library_but_cannot_upload(analyst: Any) -> None:
    library_image()
    client = client_for(analyst)
    assert client.get(admin_url("admin:content_contentimage_changelist")).status_code == 200
    assert client.get(admin_url("admin:content_contentimage_add")).status_code == 403


def test_an_image_used_in_a_text_cannot_be_deleted(editor: Any) -> None:
    image = library_image()
    article = ArticleFactory(body_es=f'<p><img src="{image.image.url}" alt="Sala"></p>')
    client = client_for(editor)
    change = client.get(admin_url("admin:content_contentimage_change", image.pk)).content.decode()
    assert admin_url("admin:content_article_change", article.pk) in change
    response = client.post(
        admin_url("admin:content_contentimage_delete", image.pk), {"post": "yes"}
    )
    assert response.status_code == 403
    assert ContentImage.objects.filter(pk=image.pk).exists()


def test_an_unused_image_can_be_deleted(editor: Any) -> None:
    image = library_image()
    response = client_for(editor).post(
        admin_url("admin:content_contentimage_delete", image.pk), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not ContentImage.objects.exists()


# --- The editor's picker --------------------------------------------------------------------------


def test_the_body_editor_offers_figures_with_the_library_picker(editor: Any) -> None:
    html = client_for(editor).get(admin_url("admin:content_article_add")).content.decode()
    picker = admin_url("admin:content_contentimage_picker")
    assert f'"Figure":{{"pickerUrl":"{picker}"}}' in html.replace("&quot;", '"')


def test_the_picker_lists_images_to_insert_and_searches_them(editor: Any) -> None:
    image = library_image(alt_text="Piscina municipal")
    library_image(alt_text="Autobús eléctrico")
    response = client_for(editor).get(
        admin_url("admin:content_contentimage_picker") + "?CKEditorFuncNum=-3&q=piscina"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-callback="-3"' in html
    assert f'data-url="{image.image.url}" data-alt="Piscina municipal"' in html
    assert "Autobús eléctrico" not in html


def test_the_picker_ignores_a_callback_that_is_not_a_number(editor: Any) -> None:
    library_image()
    html = (
        client_for(editor)
        .get(
            admin_url("admin:content_contentimage_picker")
            + '?CKEditorFuncNum=1);alert(1)//"><script>alert(1)</script>'
        )
        .content.decode()
    )
    assert 'data-callback=""' in html
    assert "alert(1)" not in html


def test_uploading_from_the_picker_returns_to_it(editor: Any) -> None:
    response = client_for(editor).post(
        admin_url("admin:content_contentimage_add") + "?_picker=-2",
        {"image": upload("sala.png", image_bytes()), "alt_text": "Sala de lectura"},
    )
    assert response.status_code == 302
    assert response["Location"] == (
        admin_url("admin:content_contentimage_picker") + "?CKEditorFuncNum=-2"
    )
    assert ContentImage.objects.get().uploaded_by == editor


def test_staff_without_the_library_cannot_open_the_picker(writer: Any) -> None:
    response = client_for(writer).get(admin_url("admin:content_contentimage_picker"))
    assert response.status_code == 403


def test_page_bodies_allow_figures_too() -> None:
    page = PageFactory(body_es=f'<figure><img src="{OWN}" alt="Plano"></figure>')
    page.refresh_from_db()
    assert Page.objects.get(pk=page.pk).body_es == (
        f'<figure><img src="{OWN}" alt="Plano" loading="lazy"></figure>'
    )


# --- In the browser --------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_editor_inserts_a_library_image_from_the_figure_dialog(
    page: PlaywrightPage, site: str, editor: Any
) -> None:
    image = library_image(alt_text="Sala de lectura")
    sign_in(page, editor, "en")
    page.goto(admin_url("admin:content_article_add"))
    page.locator("#id_title_es").fill("Biblioteca renovada")
    page.locator("#id_slug_es").fill("biblioteca-renovada")
    page.locator(".field-body_es button[data-name=figure]").click()
    dialog = page.locator("dialog[open]")
    with page.expect_popup() as opened:
        dialog.get_by_role("button", name="Browse...").click()
    picker = opened.value
    picker.wait_for_load_state()  # a popup's document may not exist yet
    assert_accessible(picker)
    picker.get_by_role("button", name="Insert “Sala de lectura”").click()
    expect(dialog.locator("input[name=imageUrl]")).to_have_value(image.image.url)
    expect(dialog.locator("input[name=altText]")).to_have_value("Sala de lectura")
    dialog.locator("input[name=caption]").fill("La sala, reformada")
    dialog.get_by_role("button", name="Insert").click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert Article.objects.get().body_es == (
        f'<figure><img src="{image.image.url}" alt="Sala de lectura" loading="lazy">'
        "<figcaption>La sala, reformada</figcaption></figure>"
    )


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
@pytest.mark.parametrize("language", ["es", "en"])
def test_the_image_library_pages_have_no_wcag_violations(
    page: PlaywrightPage, site: str, editor: Any, language: str
) -> None:
    image = library_image()
    ArticleFactory(body_es=f'<p><img src="{image.image.url}" alt="Sala"></p>')
    sign_in(page, editor, language)
    for url in (
        admin_url("admin:content_contentimage_changelist", language=language),
        admin_url("admin:content_contentimage_add", language=language),
        admin_url("admin:content_contentimage_change", image.pk, language=language),
        admin_url("admin:content_contentimage_picker", language=language) + "?CKEditorFuncNum=1",
    ):
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        assert_accessible(page)


@pytest.mark.browser
@pytest.mark.parametrize("language", ["es", "en"])
def test_a_wide_body_image_fits_the_screen_and_the_page_passes_axe(
    page: PlaywrightPage, site: str, language: str
) -> None:
    wide = image_bytes(size=(2400, 1200))
    # The test server does not serve uploads: answer them with a picture wider than any screen.
    page.route("**/media/**", lambda route: route.fulfill(body=wide, content_type="image/png"))
    image = library_image(alt_text="Sala de lectura")
    figure = (
        f'<p>Texto.</p><figure><img src="{image.image.url}" alt="Sala de lectura">'
        "<figcaption>La sala, reformada</figcaption></figure>"
    )
    article = ArticleFactory(
        **live(title_en="Library", slug_en="library", body_en=figure), body_es=figure
    )
    slug = article.slug_es if language == "es" else "library"
    with translation.override(language):
        page.goto(reverse("content:article-detail", kwargs={"slug": slug}))
    img = page.get_by_role("img", name="Sala de lectura")
    img.scroll_into_view_if_needed()
    expect(img).to_have_js_property("complete", True)
    assert img.evaluate("element => element.naturalWidth") == 2400
    box = img.bounding_box()
    assert box is not None and 0 < box["width"] <= page.viewport_size["width"]  # type: ignore[index]
    expect(page.get_by_text("La sala, reformada")).to_be_visible()
    assert_accessible(page)
