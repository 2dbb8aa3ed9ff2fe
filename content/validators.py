"""Upload and URL checks for content media, with messages staff can act on."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

IMAGE_MAX_BYTES = 5 * 1024 * 1024
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP"}
VIDEO_EXTENSIONS = (".mp4", ".webm")

# Privacy-enhanced players only: youtube-nocookie sets no cookie until play, Vimeo's player
# honours `dnt=1`, PeerTube instances are public-sector friendly. Any other host is refused.
VIDEO_HOSTS = {
    "youtube-nocookie": {"www.youtube-nocookie.com", "youtube-nocookie.com"},
    "vimeo": {"player.vimeo.com"},
}


def peertube_hosts() -> set[str]:
    return set(getattr(settings, "CONTENT_PEERTUBE_HOSTS", ("framatube.org",)))


def validate_image(file: File) -> None:
    """JPEG, PNG or WebP of at most 5 MB, checked by decoding it, not by its name."""
    if file.size is not None and file.size > IMAGE_MAX_BYTES:
        raise ValidationError(_("The image is too large (maximum 5 MB)."), code="image_too_large")
    position = file.tell() if hasattr(file, "tell") else 0
    try:
        file.seek(0)
        with Image.open(file) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValidationError(
            _("The file is not an image. Upload a JPEG, PNG or WebP image."),
            code="not_an_image",
        ) from error
    finally:
        file.seek(position)
    if image_format not in IMAGE_FORMATS:
        raise ValidationError(
            _("Unsupported image type. Upload a JPEG, PNG or WebP image."),
            code="image_type",
        )


def validate_webvtt(file: File) -> None:
    """A captions file must start with the WEBVTT signature (W3C WebVTT, section 4.1)."""
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    if isinstance(head, str):
        head = head.encode()
    head = head.removeprefix(b"\xef\xbb\xbf")
    if not (head.startswith(b"WEBVTT") and (len(head) == 6 or head[6:7] in b" \t\r\n")):
        raise ValidationError(
            _("The captions file is not WebVTT: it must start with “WEBVTT”."),
            code="not_webvtt",
        )


def validate_video_file(file: File) -> None:
    if not file.name or not file.name.lower().endswith(VIDEO_EXTENSIONS):
        raise ValidationError(_("Upload the video as MP4 or WebM."), code="video_type")


def video_embed_error(provider: str, url: str) -> str | None:
    """Why an embed URL is refused for `provider`, or None when it is an allowed player."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    allowed = peertube_hosts() if provider == "peertube" else VIDEO_HOSTS.get(provider, set())
    if parts.scheme != "https" or host not in allowed:
        return str(
            _(
                "Only privacy-enhanced players are allowed: youtube-nocookie.com, "
                "player.vimeo.com or an approved PeerTube server."
            )
        )
    if provider == "peertube" and not parts.path.startswith("/videos/embed/"):
        return str(_("Use the PeerTube embed address (…/videos/embed/…)."))
    return None
