from __future__ import annotations

import factory

from content.models import FAQ, Article, Page, Video
from tests.contacts.factories import TopicFactory


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title_es = factory.Sequence(lambda n: f"Nuevo horario de la biblioteca {n}")
    slug_es = factory.Sequence(lambda n: f"horario-biblioteca-{n}")
    summary_es = "La biblioteca municipal amplía su horario en época de exámenes."
    body_es = "<p>La biblioteca abrirá de 8:00 a 22:00 durante los exámenes.</p>"


class PageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Page

    title_es = factory.Sequence(lambda n: f"Servicios {n}")
    slug_es = factory.Sequence(lambda n: f"servicios-{n}")
    body_es = "<p>Todos los servicios municipales.</p>"


class FAQFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FAQ

    question_es = "¿Cómo me empadrono?"
    answer_es = "<p>Pide cita previa en la Oficina de Atención Ciudadana.</p>"
    topic = factory.SubFactory(TopicFactory)


class VideoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Video

    title_es = factory.Sequence(lambda n: f"Cómo separar los residuos {n}")
    slug_es = factory.Sequence(lambda n: f"separar-residuos-{n}")
    provider = Video.Provider.YOUTUBE_NOCOOKIE
    embed_url = "https://www.youtube-nocookie.com/embed/abc123"
    transcript_es = "Hola. Hoy explicamos cómo separar los residuos en casa."
