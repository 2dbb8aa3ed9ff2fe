"""Message catalogues without GNU gettext: extraction and .mo compilation in pure Python.

`make install` compiles the shipped .po files with polib, so a fresh machine needs no system
gettext. Extraction reads templates through Django's own `templatize` (what makemessages
feeds to xgettext) and Python sources through `ast`, so the test that every string has a
Spanish translation and `manage.py translations_update` see exactly the same msgids.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterable, Iterator
from pathlib import Path

import polib
from django.utils.translation.template import templatize

# (context, msgid, msgid_plural)
Message = tuple[str, str, str]

SINGULAR = {"gettext", "gettext_lazy", "_", "gettext_noop"}
PLURAL = {"ngettext", "ngettext_lazy"}
CONTEXT = {"pgettext", "pgettext_lazy"}
CONTEXT_PLURAL = {"npgettext", "npgettext_lazy"}
SKIP_DIRS = {".venv", "var", "node_modules", "tests", "bench", "migrations", ".git", "__pycache__"}


def _message(name: str, args: list[str]) -> Message | None:
    if name in SINGULAR and args:
        return ("", args[0], "")
    if name in PLURAL and len(args) >= 2:
        return ("", args[0], args[1])
    if name in CONTEXT and len(args) >= 2:
        return (args[0], args[1], "")
    if name in CONTEXT_PLURAL and len(args) >= 3:
        return (args[0], args[1], args[2])
    return None


def python_messages(source: str) -> Iterator[Message]:
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            else ""
        )
        # The leading string literals: a plural's count (`ngettext("…", "…", n)`) is a variable.
        args: list[str] = []
        for arg in node.args:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                break
            args.append(arg.value)
        if message := _message(name, args):
            yield message


def template_messages(source: str, origin: str = "") -> Iterator[Message]:
    code = templatize(source, origin=origin)
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(code).readline)
        if t.type not in {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT}
    ]
    for i, token in enumerate(tokens[:-1]):
        if token.type != tokenize.NAME or tokens[i + 1].string != "(":
            continue
        args: list[str] = []
        for arg in tokens[i + 2 :]:
            if arg.type == tokenize.STRING:
                args.append(ast.literal_eval(arg.string))
            elif arg.string != ",":
                break
        if message := _message(token.string, args):
            yield message


def source_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if SKIP_DIRS.intersection(path.relative_to(root).parts[:-1]) or not path.is_file():
            continue
        if path.suffix in {".py", ".html", ".txt"} and (
            path.suffix == ".py" or "templates" in path.parts
        ):
            yield path


def project_messages(root: Path) -> dict[Message, list[str]]:
    """Every translatable message of the project, with where it occurs."""
    found: dict[Message, list[str]] = {}
    for path in source_files(root):
        source = path.read_text(encoding="utf-8")
        where = str(path.relative_to(root))
        messages: Iterable[Message] = (
            python_messages(source) if path.suffix == ".py" else template_messages(source, where)
        )
        for message in messages:
            found.setdefault(message, []).append(where)
    return found


def catalogue_path(root: Path, language: str) -> Path:
    return root / "locale" / language / "LC_MESSAGES" / "django.po"


def untranslated(root: Path, language: str) -> list[tuple[Message, list[str]]]:
    """Messages of the project with no (or a fuzzy) translation in `language`."""
    path = catalogue_path(root, language)
    catalogue = polib.pofile(str(path)) if path.exists() else polib.POFile()
    done = {
        (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")
        for entry in catalogue
        if not entry.obsolete
        and "fuzzy" not in entry.flags
        and (entry.msgstr or (entry.msgstr_plural and all(entry.msgstr_plural.values())))
    }
    return [(m, where) for m, where in project_messages(root).items() if m not in done]


def catalogue_update(root: Path, language: str) -> tuple[int, int]:
    """Add new messages to a language's .po (empty translation), mark vanished ones obsolete."""
    path = catalogue_path(root, language)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalogue = polib.pofile(str(path)) if path.exists() else polib.POFile()
    if not catalogue.metadata:
        catalogue.metadata = {
            "Project-Id-Version": "inbound",
            "Language": language,
            "MIME-Version": "1.0",
            "Content-Type": "text/plain; charset=UTF-8",
            "Content-Transfer-Encoding": "8bit",
            "Plural-Forms": "nplurals=2; plural=(n != 1);",
        }
    messages = project_messages(root)
    existing = {(e.msgctxt or "", e.msgid, e.msgid_plural or ""): e for e in catalogue}
    added = 0
    for (context, msgid, plural), where in messages.items():
        entry = existing.get((context, msgid, plural))
        occurrences = [(w, "") for w in sorted(set(where))]
        if entry is None:
            entry = polib.POEntry(
                msgctxt=context or None,
                msgid=msgid,
                msgid_plural=plural,
                msgstr="",
                msgstr_plural={0: "", 1: ""} if plural else {},
            )
            catalogue.append(entry)
            added += 1
        entry.occurrences = occurrences
        entry.obsolete = False
        if "%(" in msgid and "python-format" not in entry.flags:
            entry.flags.append("python-format")
    obsolete = 0
    for key, entry in existing.items():
        if key not in messages and not entry.obsolete:
            entry.obsolete = True
            obsolete += 1
    catalogue.save(str(path))
    return added, obsolete


def catalogues_compile(root: Path) -> list[Path]:
    compiled = []
    for po in sorted((root / "locale").glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        polib.pofile(str(po)).save_as_mofile(str(mo))
        compiled.append(mo)
    return compiled
