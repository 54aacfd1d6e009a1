"""Config files read safely: any file gives a mapping or one line saying why not.

A config is a few kilobytes of YAML. The reader takes at most :data:`MOST_BYTES` of a
file (so `/dev/zero` or a 50 MB log is refused at once), reads UTF-8 or a text with a
byte-order mark (UTF-16 as Windows editors save it), refuses binary files, bounds the
nesting depth and what YAML aliases expand to, refuses a key given twice in one mapping
(naming both lines: the last one would silently win), and reads booleans as YAML 1.2
does: only `true` and `false`, so that `followup_inmail: yes` is the word yes and a
segment called `no` (Norway) keeps its name; `1e6` is a number, as in YAML 1.2.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any

import yaml

#: the largest config file read (the shipped configs are under 10 kB)
MOST_BYTES = 1 << 20
#: the deepest nesting of mappings and lists (a config nests about 8 deep)
MOST_DEPTH = 64
#: the most values a file may expand to through YAML aliases (`*name`)
MOST_VALUES = 100_000

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class ConfigFileError(Exception):
    """A file that is not a readable YAML mapping; `lines` hold one line per reason."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


def text_encoding(raw: bytes) -> str:
    """The encoding a file's byte-order mark names (UTF-8 without one): how configs,
    mappings and event files are decoded."""
    return next((name for bom, name in _BOMS if raw.startswith(bom)), "utf-8")


def read_text(path: Path) -> str:
    """The file's text: UTF-8, or any Unicode text with a byte-order mark."""
    source = str(path)
    try:
        with open(path, "rb") as file:
            raw = file.read(MOST_BYTES + 1)
    except OSError as error:
        raise ConfigFileError([f"{source}: cannot read the file ({error.strerror})"]) from None
    if len(raw) > MOST_BYTES:
        raise ConfigFileError(
            [
                f"{source}: (top level): larger than {MOST_BYTES // 1024} kB; a config is a "
                "few kilobytes of YAML (is this the right file?)"
            ]
        )
    encoding = text_encoding(raw)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise ConfigFileError(
            [
                f"{source}: (top level): not text in UTF-8 (byte {error.start}: "
                f"0x{raw[error.start]:02x}); save the file as UTF-8"
            ]
        ) from None
    if "\x00" in text:
        raise ConfigFileError(
            [f"{source}: (top level): a binary file (it holds NUL bytes), not YAML text"]
        )
    return text


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans and scientific notation, and a bounded
    nesting depth."""

    yaml_implicit_resolvers: dict = {  # noqa: RUF012 - PyYAML's own class attribute
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        if self.depth > MOST_DEPTH:
            mark = self.peek_event().start_mark
            raise yaml.YAMLError(
                f"nested more than {MOST_DEPTH} levels deep (line {mark.line + 1})"
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# a number in scientific notation, as YAML 1.2 reads it: `1e6` and `1.5e3` (YAML 1.1 wants
# a dot and a sign, `1.0e+6`, and reads the others as text, which a count then refused as
# "unable to parse string as an integer")
_SCIENTIFIC = re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _SCIENTIFIC, list("-+0123456789"))


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, quoting what the loader above reads as a number though YAML
    1.1 would not (a strategy called "1e6" is written '1e6', and read back as a name)."""


_Dumper.add_implicit_resolver("tag:yaml.org,2002:float", _SCIENTIFIC, list("-+0123456789"))


def dump_yaml(data: Any) -> str:
    """`data` as YAML text that `parse_yaml` reads back as the same values."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=False)


_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _key_text(node: yaml.Node) -> str:
    value = str(node.value) if isinstance(node, yaml.ScalarNode) else "(a complex key)"
    return value if len(value) <= 40 else value[:40] + "..."


def _problems(root: yaml.Node) -> list[str]:
    """Keys given twice in one mapping, aliases that refer to themselves, dates that are
    not dates, and more values than MOST_VALUES once aliases are expanded."""
    problems: list[str] = []
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def walk(node: yaml.Node, path: str) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in busy:
            problems.append(f"{path or '(top level)'}: a YAML alias that contains itself")
            return MOST_VALUES + 1
        busy.add(id(node))
        size = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}  # (tag, key) -> its line
            for key, value in node.value:
                name = _key_text(key)
                where = f"{path}.{name}" if path else name
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    line = key.start_mark.line + 1
                    ident = (key.tag, str(key.value))
                    if ident in seen:
                        problems.append(
                            f"{where}: given twice (lines {seen[ident]} and {line}); keep one"
                        )
                        continue
                    seen[ident] = line
                size += walk(value, where)
                if size > MOST_VALUES:
                    break
        elif isinstance(node, yaml.ScalarNode) and node.tag == _TIMESTAMP:
            try:  # `2026-13-01` looks like a date to YAML, which then fails to build it
                yaml.constructor.SafeConstructor().construct_yaml_timestamp(node)
            except ValueError as error:
                problems.append(f"{path or '(top level)'}: {node.value!r} is not a date ({error})")
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                size += walk(item, f"{path}.{index}" if path else str(index))
                if size > MOST_VALUES:
                    break
        busy.discard(id(node))
        sizes[id(node)] = size
        return size

    if walk(root, "") > MOST_VALUES and not problems:
        problems.append(
            f"(top level): more than {MOST_VALUES} values once YAML aliases are expanded"
        )
    return problems


def parse_yaml(text: str, source: str) -> Any:
    """The YAML document in `text` as Python values; one line per problem otherwise."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        problems = _problems(root)
        if problems:
            raise ConfigFileError([f"{source}: {line}" for line in problems])
        return loader.construct_document(root)
    except yaml.constructor.ConstructorError as error:
        reason = str(error.problem or error).replace("\n", " ")
        raise ConfigFileError(
            [f"{source}: (top level): YAML tags that build objects are not allowed ({reason})"]
        ) from None
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())
        raise ConfigFileError([f"{source}: (top level): not valid YAML: {reason}"]) from None
    finally:
        loader.dispose()


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file safely (see the module's docstring)."""
    path = Path(path)
    return parse_yaml(read_text(path), str(path))
