"""Normalisation of system names for matching (never for display or storage).

What it does, in order, and why:
1. Repair text that lost its encoding on the way: UTF-8 read as Windows-1252 ("Ã¶" → "ö"); a "?" or
   "\ufffd" standing inside a word for a lost character is dropped ("L?kemedel" ≈ "Läkemedel").
2. Case and Unicode folding: NFKD, combining marks removed, so å/ä/ö become a/a/o (for matching only;
   names are stored and shown as written), æ→ae, ø→o, ß→ss.
3. Parenthesised parts are set apart: "Nationell patientöversikt (NPÖ)" matches on "nationell
   patientoversikt" and on "npo"; "COSMIC (Cambio)" names its supplier in brackets.
4. Punctuation becomes spaces; version numbers and years are removed ("Cosmic 4.2", "R8", "v2",
   "2019", "x64", "SP2", a trailing "10" after a word) but a number that is the name, or a long one
   such as "1177", stays.
5. Suppliers' names inside the name ("Cambio Cosmic") are removed for a second key, so the name
   matches with or without them; the supplier is kept apart to tell "Sectra PACS" from "Agfa PACS".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

def _words(text: str) -> list[str]:
    return text.split()


# Suppliers common in Swedish healthcare and public-sector IT. The register's own suppliers and the
# supplier column of a list are added to these at match time.
KNOWN_SUPPLIERS = _words("""
abbott addovation adobe agfa alfa atea cambio inera ortivus raysearch atlassian avaya axis beckman bio-rad boschi canon carestream
cerner cgi cisco citrix cgm compugroup dedalus diabase doro drager draeger elekta epic evry
evondos fujifilm formpipe ge getinge google hogia ibm infor inera ist ibs lifecare medidoc medtronic
microsoft mindray natus netsmart nihon nordic oracle orion phillips philips phoniro pulsen qlik radiometer
redhat roche sap sectra siemens sysmex systematic tieto tietoevry tunstall unit4 varian visma vmware
werfen ascom alcadis aweria appva ciceron doctrin kry platform24 visiba zoll stryker olympus zeiss
topcon heidelberg nexus daedalus norconsult softronic knowit sogeti capgemini accenture telia tele2
telenor ericsson hp hpe dell lenovo fortinet paloalto checkpoint veeam commvault netapp salesforce
servicenow zoom slack autodesk esri kentor medhelp min doktor mindoktor ehalsomyndigheten
""")

# Legal forms and words that say nothing about which supplier it is.
SUPPLIER_NOISE = set(_words("""
ab aktiebolag inc incorporated ltd limited oy oyj as asa aps gmbh ag corp corporation co company llc plc
sa sas bv nv kg srl spa sverige sweden svenska swedish nordic norden nordics scandinavia international
group healthcare health medical solutions systems software technologies technology it data the
"""))

# Words that describe what a system is for rather than which one it is; an extra one of these on one
# side ("Heroma lön", "Cosmic journalsystem") weighs little.
DESCRIPTORS = set(_words("""
system systemet systems journal journalsystem journalen lon loner ekonomi ekonomisystem personal hr
klient client klienten server web webb webben webbklient portal portalen app appen mobil mobile modul
module moduler tjanst tjansten tjanster service services databas db integration plattform platform suite
enterprise cloud online desktop admin administration standard professional pro edition region regionen
landsting vard vardsystem support verktyg tool tools program programvara software applikation application
losning produktion prod drift registret register arkiv archive e nationell regional lokal central
"""))

# Describing words often end a compound ("förlossningsjournal", "ärendehantering", "vaccinationsregister").
DESCRIPTOR_SUFFIXES = ("journal", "journalen", "system", "systemet", "hantering", "register", "registret", "registry",
                       "planering", "databas", "modul", "modulen", "portal", "portalen", "verktyg", "verktyget",
                       "tjanst", "tjanster", "stod", "robot", "styrning", "rapportering", "bokning", "katalog",
                       "moten", "handel", "uppfoljning", "administration", "analys")
DESCRIPTORS |= set(_words("""
rapportering planering avvikelser avvikelse intyg enkat schema diarium wiki epr ehr emr ekg eeg ecg itsm erp crm
wfm voo hr lab labb patologi onkologi radiologi kardiologi neurologi psykiatri tandvard tandvarden forlossning
obstetrik geriatrik pediatrik ogon dialys akut ambulans primarvard specialistvard kommun sjukhus ehandel
omsorg vard och kommunikation dokumenthantering arendehantering bi dw
"""))

# Abbreviations people write for suppliers.
SUPPLIER_ABBREVIATIONS = {"ms": "microsoft", "cgm": "compugroup", "ibm": "ibm", "hp": "hp"}

STOPWORDS = set(_words("och and of for i av the med till pa de en ett a an to in on at by"))

_MOJIBAKE = {
    "Ã¥": "å", "Ã¤": "ä", "Ã¶": "ö", "Ã…": "Å", "Ã„": "Ä", "Ã–": "Ö", "Ã©": "é", "Ã¼": "ü", "Ã¸": "ø",
    "Ã¦": "æ", "Ã\u0085": "Å", "Ã\u0084": "Ä", "Ã\u0096": "Ö", "â€“": "–", "â€”": "—", "â€™": "’",
}
_MOJIBAKE_RE = re.compile("|".join(re.escape(k) for k in sorted(_MOJIBAKE, key=len, reverse=True)))
_E_PREFIX = re.compile(r"\be[-\u2010\u2011]\s?(?=\w)")
_LOST_CHAR = re.compile(r"(?<=\w)[?\ufffd]+(?=\w)|[\ufffd]")
_BRACKETS = re.compile(r"[(\[{]([^()\[\]{}]*)[)\]}]")
_PART_SPLIT = re.compile(r"\s+[-–—|:/]\s+|:\s+")
_TOKEN = re.compile(r"(?:v|r|ver|rel)?\d+(?:[.,_]\d+)+[a-z]?|[^\W_]+")
_VERSION_TOKEN = re.compile(
    r"^(?:v|ver|r|rel|version|release)?\d+(?:[.,_]\d+)+[a-z]?$"  # 4.2, v2.1, 10.1.3
    r"|^(?:v|r|sp|rel)\d+[a-z]?$"  # v7, R8, SP2
    r"|^(?:x64|x86|32bit|64bit|amd64|win32|win64)$"
)
_YEAR = re.compile(r"^(?:19[89]\d|20[0-4]\d)$")
_VERSION_WORDS = {"version", "ver", "release", "rel", "utgava", "build"}


def repair(text: str) -> str:
    """Undo the common encoding accidents of exported lists."""
    if "Ã" in text or "â€" in text:
        text = _MOJIBAKE_RE.sub(lambda m: _MOJIBAKE[m.group(0)], text)
    return _LOST_CHAR.sub("", text)


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lowercase, accents and å/ä/ö folded; punctuation kept (callers tokenise)."""
    text = unicodedata.normalize("NFKD", repair(text).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("æ", "ae").replace("ø", "o").replace("ß", "ss").replace("&", " och ")
    return _E_PREFIX.sub("e", text)  # "e-tjänster", "e-Ped": one word


def tokens(text: str) -> list[str]:
    """Folded tokens; version-like numbers keep their dots so they can be recognised."""
    return _TOKEN.findall(fold(text))


def strip_versions(toks: list[str]) -> tuple[list[str], list[str]]:
    """(tokens without versions and years, the removed ones). A name is never emptied."""
    kept: list[str] = []
    removed: list[str] = []
    skip_next_number = False
    for i, tok in enumerate(toks):
        is_number = tok.isdigit()
        if tok in _VERSION_WORDS and i + 1 < len(toks) and toks[i + 1][:1].isdigit():
            removed.append(tok)
            skip_next_number = True
            continue
        if skip_next_number and tok[:1].isdigit():
            removed.append(tok)
            skip_next_number = False
            continue
        skip_next_number = False
        if tok == "bit" and i > 0 and toks[i - 1] in ("32", "64") and removed and removed[-1] == toks[i - 1]:
            removed.append(tok)
            continue
        if tok in ("32", "64") and i + 1 < len(toks) and toks[i + 1] == "bit" and i > 0:
            removed.append(tok)
            continue
        if _VERSION_TOKEN.match(tok) or (_YEAR.match(tok) and i > 0) or (
                is_number and len(tok) <= 2 and i > 0 and i == len(toks) - 1):
            removed.append(tok)
            continue
        kept.append(tok.replace(",", ".").replace("_", "."))
    if not kept:
        return [t.replace(",", ".").replace("_", ".") for t in toks], []
    return kept, removed


@lru_cache(maxsize=50_000)
def supplier_tokens(supplier: str | None) -> frozenset[str]:
    """The tokens that name a supplier ("Cambio Healthcare Systems AB" → {"cambio"})."""
    if not supplier:
        return frozenset()
    toks = [SUPPLIER_ABBREVIATIONS.get(t, t) for t in tokens(supplier) if t not in SUPPLIER_NOISE and not t.isdigit()]
    return frozenset(toks)


def is_descriptor(tok: str) -> bool:
    """A word that says what a system does rather than which system it is."""
    if tok in DESCRIPTORS:
        return True
    return len(tok) >= 7 and any(tok.endswith(s) and len(tok) - len(s) >= 3 for s in DESCRIPTOR_SUFFIXES)


@dataclass(frozen=True)
class NameKeys:
    """The forms of one name that matching compares."""

    main: str  # folded, brackets and versions removed
    full: str  # folded, brackets removed, versions kept ("platform 24": the number may be the name)
    stripped: str  # main without suppliers' names ("" when nothing was removed or nothing would remain)
    alts: tuple[str, ...]  # bracketed parts, parts around " - ", acronyms
    suppliers: frozenset[str]  # suppliers named in the name, its brackets or its supplier field
    removed_versions: tuple[str, ...] = ()
    removed_suppliers: tuple[str, ...] = ()
    token_set: frozenset[str] = field(default=frozenset())
    acronym: str = ""  # the initials made of the name's words (also among alts); "" when none

    def primary(self) -> list[str]:
        out = [self.main]
        if self.stripped:
            out.append(self.stripped)
        if self.full != self.main:
            out.append(self.full)
        return out

    def all(self) -> list[str]:
        out = self.primary()
        out.extend(a for a in self.alts if a not in out)
        return [k for k in out if k]


def _acronym(toks: list[str]) -> str:
    words = [t for t in toks if t not in STOPWORDS and not t[:1].isdigit()]
    return "".join(w[0] for w in words) if len(words) >= 2 else ""


def keys_for(name: str, supplier: str | None = None, known_suppliers: frozenset[str] | set[str] = frozenset()
             ) -> NameKeys:
    """Every key of a name. ``known_suppliers``: supplier tokens to recognise inside names."""
    raw = repair(name or "")
    brackets = [b for b in _BRACKETS.findall(raw) if b.strip()]
    outside = _BRACKETS.sub(" ", raw)
    all_toks = tokens(outside) or tokens(raw)
    main_toks, removed = strip_versions(all_toks)
    main_toks = [SUPPLIER_ABBREVIATIONS.get(t, t) if i == 0 and len(main_toks) > 1 else t
                 for i, t in enumerate(main_toks)]
    own = supplier_tokens(supplier)
    extra = known_suppliers or _KNOWN

    def recognised(tok: str) -> bool:  # in own ∪ known ∪ built-in, without copying the (large) known set
        return tok in own or tok in extra or tok in _KNOWN

    suppliers = set(own)
    alts: list[str] = []
    for b in brackets:
        btoks, _ = strip_versions(tokens(b))
        if btoks and all(recognised(t) or t in SUPPLIER_NOISE for t in btoks):
            suppliers.update(t for t in btoks if recognised(t))
        elif btoks and not all(_VERSION_TOKEN.match(t) or t.isdigit() for t in btoks):
            alts.append(" ".join(btoks))
    in_name = [t for t in main_toks if recognised(t)]
    suppliers.update(in_name)
    rest = [t for t in main_toks if not recognised(t) and t not in SUPPLIER_NOISE]
    stripped = " ".join(rest) if in_name and rest and any(
        len(t) > 2 or (any(c.isdigit() for c in t) and any(c.isalpha() for c in t)) for t in rest) else ""
    main = " ".join(main_toks)
    parts = [p for p in _PART_SPLIT.split(outside) if p.strip()]
    if len(parts) > 1:
        for p in parts:
            ptoks, _ = strip_versions(tokens(p))
            ptoks = [t for t in ptoks if not recognised(t)] or ptoks
            key = " ".join(ptoks)
            if key and key != main and len(key) > 2:
                alts.append(key)
    acro = _acronym(rest or main_toks)
    if acro and len(acro) >= 3:
        alts.append(acro)
    else:
        acro = ""
    alts = [a for a in dict.fromkeys(alts) if a != main and a != stripped]
    full = " ".join(t.replace(",", ".").replace("_", ".") for t in all_toks)
    return NameKeys(main=main, full=full, stripped=stripped, alts=tuple(alts), suppliers=frozenset(suppliers),
                    removed_versions=tuple(removed), removed_suppliers=tuple(in_name),
                    token_set=frozenset(main_toks), acronym=acro if acro in alts else "")


_KNOWN = frozenset(KNOWN_SUPPLIERS)


def suppliers_agree(a: frozenset[str], b: frozenset[str]) -> bool | None:
    """True/False when both sides name suppliers, None when either does not."""
    if not a or not b:
        return None
    for x in a:
        for y in b:
            if x == y or (min(len(x), len(y)) >= 4 and (x.startswith(y) or y.startswith(x))):
                return True
    return False
