"""`{% public_fragment "name" part… %}…{% endpublic_fragment %}`: a part of a public page kept
rendered until staff change public content (`inbound.lib.pagecache.public_fragment`).

The key is the name, the current language and the parts (e.g. an article's id and update
time); only for HTML that is the same for every visitor. Previews (`preview` in the context)
always render.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token

from inbound.lib.pagecache import public_fragment

register = template.Library()


class PublicFragmentNode(template.Node):
    def __init__(
        self, nodelist: NodeList, name: FilterExpression, parts: list[FilterExpression]
    ) -> None:
        self.nodelist = nodelist
        self.name = name
        self.parts = parts

    def render(self, context: Any) -> str:
        if context.get("preview"):
            # Unpublished text, for a link holder only: never kept where citizens' renders read.
            return self.nodelist.render(context)
        return public_fragment(
            str(self.name.resolve(context)),
            request=context.get("request"),
            parts=tuple(part.resolve(context) for part in self.parts),
            render=lambda: self.nodelist.render(context),
        )


@register.tag("public_fragment")
def do_public_fragment(parser: Parser, token: Token) -> PublicFragmentNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("public_fragment needs a name")
    nodelist = parser.parse(("endpublic_fragment",))
    parser.delete_first_token()
    return PublicFragmentNode(
        nodelist, parser.compile_filter(bits[1]), [parser.compile_filter(bit) for bit in bits[2:]]
    )
