"""Every sentence of the interface in English and Spanish: one catalogue per language
(digitdash/locales/<code>.toml), looked up by key. Engine messages are `Message`s: their English
text for the command line, plus the key and parameters to say them in any language on a page."""
from __future__ import annotations

import json
import numbers
import tomllib
from functools import cache
from pathlib import Path

LANGUAGES = {"en": "English", "es": "Español"}
CODES = {name: code for code, name in LANGUAGES.items()}      # "Español" -> "es"
DEFAULT = "en"
_DIR = Path(__file__).with_name("locales")


@cache
def catalogue(lang: str) -> dict[str, str]:
    """key -> text; nested TOML tables become dotted keys ("train.title")."""
    with open(_DIR / f"{lang}.toml", "rb") as f:
        return dict(_flatten(tomllib.load(f)))


def _flatten(tree: dict, prefix: str = ""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield prefix + key, value


def t(key: str, lang: str = DEFAULT, **params) -> str:
    """The text of `key` in `lang`, with {placeholders} filled (Messages among them said in `lang` too,
    numbers written as `lang` writes them: {n:,} is 4,000 in English and 4.000 in Spanish)."""
    lang = lang if lang in LANGUAGES else DEFAULT
    text = catalogue(lang)[key]
    return text.format(**{k: _spoken(say(v, lang), lang) for k, v in params.items()}) if params else text


# How each language marks thousands and decimals (English: 4,000.5; Spanish: 4.000,5).
_MARKS = {"en": str.maketrans({}), "es": str.maketrans({",": ".", ".": ","})}


def number(value, lang: str = DEFAULT, spec: str = ",") -> str:
    """A number as `lang` writes it, formatted by `spec` (Python's format spec; the default groups
    thousands): number(4000, "es") == "4.000", number(0.975, "es", ".1%") == "97,5%"."""
    return format(value, spec).translate(_MARKS.get(lang, _MARKS[DEFAULT]))


class _Number:
    """A number filled into a catalogue sentence: formatted by the sentence's own spec, in `lang`'s marks."""

    def __init__(self, value, lang: str):
        self.value, self.lang = value, lang

    def __format__(self, spec: str) -> str:
        return number(self.value, self.lang, spec)

    def __str__(self) -> str:
        return number(self.value, self.lang, "")


def _spoken(value, lang: str):
    if lang == DEFAULT or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return value
    return _Number(value, lang)


def say(value, lang: str = DEFAULT):
    """A Message in `lang`; anything else unchanged (plain text, numbers)."""
    return t(value.key, lang, **value.params) if isinstance(value, Message) else value


def knob_value(knob: str, value):
    """A knob's value as people read it: a Message where the catalogue names it (value.<knob>.<value>:
    lr_schedule constant is "constante" in Spanish), else the value itself (relu, 512-128, 0.001)."""
    key = f"value.{knob}.{value}"
    return Message(key) if key in catalogue(DEFAULT) else value


def language_of(locale: str | None) -> str:
    """The catalogue for a browser's locale such as 'es-GT' or an Accept-Language header."""
    for part in (locale or "").replace(";", ",").split(","):
        code = part.strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


class Message(str):
    """A sentence for the interface. As a str it is the English text; `key` and `params` say it
    in any language (`say(message, "es")`)."""

    key: str
    params: dict

    def __new__(cls, key: str, **params):
        self = super().__new__(cls, t(key, DEFAULT, **params))
        self.key, self.params = key, params
        return self

    def __reduce__(self):
        return _rebuild, (self.key, self.params)

    def to_data(self) -> dict:
        return {"key": self.key, "params": {k: v.to_data() if isinstance(v, Message) else v
                                            for k, v in self.params.items()}}

    @classmethod
    def from_data(cls, data: dict) -> "Message":
        params = {k: cls.from_data(v) if isinstance(v, dict) and "key" in v else v
                  for k, v in data.get("params", {}).items()}
        return cls(data["key"], **params)

    def to_json(self) -> str:
        return json.dumps(self.to_data())


def _rebuild(key: str, params: dict) -> Message:
    return Message(key, **params)


def from_json(text: str | None, fallback: str = ""):
    """A stored Message; `fallback` (plain stored text) when there is none or its key is gone."""
    if not text:
        return fallback
    try:
        return Message.from_data(json.loads(text))
    except (ValueError, KeyError, TypeError, IndexError):
        return fallback


class Problem(ValueError):
    """An error whose message can be said in every language; str() is the English text."""

    def __init__(self, key: str | Message, **params):
        self.message = key if isinstance(key, Message) else Message(key, **params)
        super().__init__(str(self.message))
