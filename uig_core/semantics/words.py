"""Words of a text in any script: whitespace words for Latin, Cyrillic, Greek…; jieba words for Chinese.

Chinese (and Japanese kanji) is written without spaces, so "丝绒哑光口红" is one whitespace token; the static
multilingual model, interest names and search matching need its words ("丝绒", "哑光", "口红"). Han runs go through
jieba (its dictionary and HMM ship with the package: nothing is downloaded); kana and Thai runs, which jieba does
not know, become character bigrams; other letters split on whitespace and punctuation and are lowercased. Tokens
holding a digit ("3.5g", "2kg", "30片") are sizes and counts: :func:`words` drops them.

Example:
    >>> words("兰蔻 丝绒哑光口红 3.5g")
    ['兰蔻', '丝绒', '哑光', '口红']
    >>> words("Jumbo Bag Pink")
    ['jumbo', 'bag', 'pink']
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "SHOP_BOILERPLATE",
    "words",
    "tokens",
    "is_han",
    "nonlatin_share",
    "is_nonlatin",
    "join_words",
    "word_frequency",
]

log = logging.getLogger(__name__)

#: Shop boilerplate in Chinese titles (the store, authenticity, shipping, novelty and promotion words): it says
#: nothing about the item, so the multilingual model leaves it out and it never names an interest.
SHOP_BOILERPLATE = frozenset(
    """
官方 旗舰店 官方旗舰店 旗舰 专卖店 专营店 正品 正品保证 官方正品 包邮 顺丰 顺丰包邮 新款 新品 热卖 爆款 特价 促销
限时 秒杀 专柜 授权 同款 官网 现货 直营 国行 品牌 大牌 推荐 网红 清仓 折扣 优惠 赠品 进口 原装 保证 厂家 直销 批发
""".split()
)
_HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_KANA_THAI = "\u3040-\u30ff\u0e00-\u0e7f"
# one token: a Han run, a kana/Thai run, or a word of other letters and digits (with inner . - ' kept: 3.5g)
_RUN = re.compile(rf"([{_HAN_CLASS}]+)|([{_KANA_THAI}]+)|((?:[^\W_]|(?<=\w)[.\-'’](?=\w))+)")
_HAN = re.compile(rf"[{_HAN_CLASS}]")
_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")

_JIEBA: Any = None
_JIEBA_LOCK = threading.Lock()


def _jieba() -> Any:
    """One jieba tokenizer per process, initialised once (its dictionary loads in ~1 s, from its cache after)."""
    global _JIEBA
    with _JIEBA_LOCK:
        if _JIEBA is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict" lines say nothing an analyst can act on
            tok = jieba.Tokenizer()
            tok.initialize()
            _JIEBA = tok
        return _JIEBA


def word_frequency(word: str) -> float:
    """A Chinese word's probability in jieba's dictionary (1e-7 for words it does not list, and other scripts)."""
    tok = _jieba()
    f = tok.FREQ.get(word) if is_han(word) else None
    return float(f) / float(tok.total) if f else 1e-7


def is_han(token: str) -> bool:
    """True when ``token`` holds a Chinese character."""
    return bool(_HAN.search(token))


def tokens(text: str) -> list[str]:
    """Every token of ``text`` in order, sizes and counts included (lowercased; Han runs segmented by jieba)."""
    out: list[str] = []
    for m in _RUN.finditer(str(text)):
        han, kana, other = m.groups()
        if han:
            out.extend(w for w in _jieba().lcut(han, HMM=True) if w.strip())
        elif kana:
            out.extend([kana] if len(kana) <= 2 else [kana[i : i + 2] for i in range(len(kana) - 1)])
        elif other:
            out.append(other.lower())
    return out


def words(text: str) -> list[str]:
    """The meaningful words of ``text``: :func:`tokens` without sizes, counts and single Latin letters."""
    return [t for t in tokens(text) if not _DIGIT.search(t) and (len(t) > 1 or is_han(t))]


def is_nonlatin(text: str) -> bool:
    """True when most letters of ``text`` are outside the Latin script (Han, kana, Cyrillic, Arabic, …).

    A Han or kana character counts as three letters (it carries about a word's meaning), so a Chinese title with
    a Latin brand name ("兰蔻 LANCOME 口红") reads as Chinese.
    """
    latin = other = 0
    for ch in _LETTER.findall(str(text)):
        if ord(ch) < 0x0370 or 0x1E00 <= ord(ch) <= 0x1EFF:
            latin += 1
        else:
            other += 3 if _HAN.match(ch) or 0x3040 <= ord(ch) <= 0x30FF else 1
    return other > latin


def nonlatin_share(texts: Iterable[str]) -> float:
    """Share of the non-empty ``texts`` that are mostly non-Latin (:func:`is_nonlatin`); 0.0 for none."""
    n = hit = 0
    for t in texts:
        if t:
            n += 1
            hit += is_nonlatin(t)
    return hit / n if n else 0.0


def join_words(parts: Sequence[str]) -> str:
    """Write words as a phrase: Chinese words run together ("哑光口红"), others with a space ("jumbo bag")."""
    out = ""
    for p in parts:
        if out and not (is_han(out[-1]) and is_han(p[0])):
            out += " "
        out += p
    return out
