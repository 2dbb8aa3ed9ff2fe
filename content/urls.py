"""Public content pages (articles, topics, FAQs, videos) under /es/, /en/…"""

from __future__ import annotations

from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from content import feeds, views, views_search

app_name = "content"

urlpatterns: list[URLPattern] = [
    path(_("news/"), views.article_list, name="article-list"),
    path(_("news/<slug:slug>/"), views.article_detail, name="article-detail"),
    path(_("topics/<slug:slug>/"), views.topic_detail, name="topic-detail"),
    path(_("pages/<path:path>/"), views.page_detail, name="page-detail"),
    path(_("faq/"), views.faq_list, name="faq-list"),
    path(_("search/"), views_search.search, name="search"),
    path(_("videos/<slug:slug>/"), views.video_detail, name="video-detail"),
    path(_("preview/<str:token>/"), views.content_preview, name="preview"),
    path(_("news/feed/rss/"), feeds.ArticlesRssFeed(), name="article-feed-rss"),
    path(_("news/feed/atom/"), feeds.ArticlesAtomFeed(), name="article-feed-atom"),
    path(_("topics/<slug:slug>/feed/rss/"), feeds.TopicRssFeed(), name="topic-feed-rss"),
    path(_("topics/<slug:slug>/feed/atom/"), feeds.TopicAtomFeed(), name="topic-feed-atom"),
]
