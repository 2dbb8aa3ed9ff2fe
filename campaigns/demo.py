"""Demo campaign of the Spanish demo institution: a newsletter draft ready to check, preview,
test and send from its page (`make run`, then *Campañas › Revisar y enviar*). The demo
workflows are in `workflows.demo`."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation

from campaigns.models import Campaign, Email
from content.models import Article

NAME = "Boletín municipal de diciembre"

BODY_ES = """<h2>Hola, {{ contact.first_name|default:"vecino/a" }}:</h2>
<p>Este mes hay novedades en tu barrio. Te contamos lo más útil en pocas líneas.</p>
<ul><li>La biblioteca abre más horas en época de exámenes.</li>
<li>Hay nuevas plazas en los talleres de mayores.</li></ul>
<p>{link}</p>
<p>Gracias por leernos.</p>"""

BODY_EN = """<h2>Hello, {{ contact.first_name|default:"neighbour" }}:</h2>
<p>There is news in your neighbourhood this month. Here is what matters, in a few lines.</p>
<p>{link}</p>"""


def campaigns_demo_seed() -> int:
    """Create the demo newsletter draft once; 1 when created, 0 on a second run."""
    if Campaign.objects.filter(name=NAME).exists():
        return 0
    article = Article.objects.live().order_by("-published_at").first()
    links = {"es": "", "en": ""}
    if article is not None:
        for language, label in (("es", "Lee la noticia completa"), ("en", "Read the news")):
            with translation.override(language):
                path = reverse("content:article-detail", kwargs={"slug": article.slug})
            links[language] = f'<a href="{path}">{label}</a>'
    email = Email.objects.create(
        name=NAME,
        subject_es="Novedades de diciembre en tu barrio",
        subject_en="December news in your neighbourhood",
        preheader_es="Biblioteca, talleres y más, en pocas líneas",
        body_es=BODY_ES.replace("{link}", links["es"]),
        body_en=BODY_EN.replace("{link}", links["en"]),
    )
    Campaign.objects.create(name=NAME, email=email, purpose=Campaign.Purpose.NEWSLETTER)
    return 1
