"""`content` holds no citizen's data: its models are declared exempt in the personal-data
registry (`inbound.lib.personal_data`), with the media fields named one by one."""

from __future__ import annotations

from inbound.lib.personal_data import exempt_field, exempt_models

exempt_field("content.Article.hero_image", why="editorial image")
exempt_field("content.Video.video_file", why="published video")
exempt_field("content.Video.captions", why="published captions")
exempt_field("content.ContentImage.image", why="editorial image")
exempt_field("content.Revision.snapshot", why="a revision of published content")
exempt_models(
    {
        "content.Article": "published articles",
        "content.Page": "published pages",
        "content.FAQ": "published answers",
        "content.Video": "published videos",
        "content.ContentImage": "editorial images",
        "content.Revision": "content revisions (authors are staff)",
    }
)
