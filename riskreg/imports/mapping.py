"""Column mapping: which column of a list holds which field of a system (API.md's mapping fields), and
how a cell's text becomes a field's value."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from riskreg.models.codes import Criticality, Hosting, Lifecycle, PersonalData
from riskreg.search import fold

FIELDS = ("name", "aliases", "description", "supplier", "org_unit", "system_owner", "risk_owner", "criticality",
          "lifecycle", "hosting", "personal_data", "priority_list", "external_key")

FIELD_LABELS = {
    "name": _l("Name"), "aliases": _l("Other names (aliases)"), "description": _l("Description"),
    "supplier": _l("Supplier"), "org_unit": _l("Org unit (by name)"), "system_owner": _l("System owner (e-mail)"),
    "risk_owner": _l("Risk owner (e-mail)"), "criticality": _l("Criticality"), "lifecycle": _l("Lifecycle"),
    "hosting": _l("Hosting"), "personal_data": _l("Personal data"), "priority_list": _l("Priority list"),
    "external_key": _l("External key"),
}

# Header words per field, folded (case, å/ä/ö, punctuation). Exact matches win over partial ones.
SYNONYMS: dict[str, list[str]] = {
    "name": ["namn", "systemnamn", "system namn", "name", "system name", "u system name", "system", "systemets namn",
             "applikation", "applikationsnamn", "application", "application name", "app name", "it system",
             "it systemnamn", "produkt", "produktnamn", "product", "product name", "tjanst", "tjanstenamn",
             "display name", "ci name", "benamning", "objekt", "objektnamn"],
    "aliases": ["alias", "aliases", "aliaser", "andra namn", "other names", "also known as", "kortnamn",
                "short name", "forkortning", "abbreviation", "synonym", "synonymer"],
    "description": ["beskrivning", "description", "short description", "kort beskrivning", "syfte", "purpose",
                    "comments", "kommentar", "anmarkning", "u description", "information"],
    "supplier": ["leverantor", "vendor", "supplier", "manufacturer", "tillverkare", "leverantor namn",
                 "u vendor", "vendor name", "company", "foretag", "systemleverantor"],
    "org_unit": ["forvaltning", "org unit", "organisation", "organization", "department", "avdelning",
                 "verksamhetsomrade", "verksamhet", "u forvaltning", "business unit", "enhet", "forvaltning namn",
                 "ansvarig forvaltning", "org enhet"],
    "system_owner": ["systemagare", "systemansvarig", "system owner", "owned by", "owner", "agare",
                     "systemagare e post", "systemagare epost", "systemansvarig e post", "u system owner",
                     "systemforvaltare", "managed by"],
    "risk_owner": ["riskagare", "informationsagare", "risk owner", "information owner", "business owner",
                   "riskagare e post", "objektagare"],
    "criticality": ["kritikalitet", "kategori", "criticality", "business criticality", "klass", "u criticality",
                    "kritisk", "verksamhetskritikalitet", "kritikalitetsklass", "applikationskategori"],
    "lifecycle": ["livscykel", "status", "lifecycle", "install status", "operational status", "livscykelstatus",
                  "driftstatus", "lifecycle status", "fas"],
    "hosting": ["driftform", "hosting", "drift", "hosting model", "driftmiljo", "driftsform", "plattform",
                "deployment"],
    "personal_data": ["personuppgifter", "personal data", "pii", "behandlar personuppgifter", "gdpr",
                      "personuppgiftsbehandling"],
    "priority_list": ["prioriteringslista", "verksamhetskritisk", "priority list", "prioriterad",
                      "katastroflista", "prioriteringslista vid katastroflage"],
    "external_key": ["sys id", "sysid", "id", "key", "nyckel", "objekt id", "ci id", "u sys id", "number",
                     "nummer", "clarity id", "investment id", "external id", "extern id", "externt id", "referens",
                     "asset id", "app id", "application id", "system id"],
}

_SPACE = re.compile(r"\s+")


def _norm_header(text: str) -> str:
    return _SPACE.sub(" ", fold(text.replace("_", " "))).strip()


def suggest(headers: list[str]) -> dict[str, str]:
    """Column → field, from the headers; each field at most once (aliases may come from several)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    normed = {h: _norm_header(h) for h in headers}
    for exact in (True, False):
        for fld in FIELDS:
            if fld in taken and fld != "aliases":
                continue
            for h in headers:
                if h in out:
                    continue
                n = normed[h]
                syns = SYNONYMS[fld]
                if exact:
                    hit = n in syns
                else:
                    words = n.split()
                    hit = bool(n) and any(
                        (len(s) >= 4 and (n.startswith(s + " ") or n.endswith(" " + s) or s in words))
                        for s in syns if " " not in s) and fld not in ("external_key",)
                if hit:
                    out[h] = fld
                    taken.add(fld)
                    if fld != "aliases":
                        break
    return out


def validate(mapping: dict, headers: list[str]) -> dict[str, str]:
    """An explicit mapping, checked: known columns, known fields, a name column. Raises ValueError with
    a dict of problems per key."""
    problems: dict[str, list] = {}
    clean: dict[str, str] = {}
    seen: dict[str, str] = {}
    for col, fld in mapping.items():
        if fld in (None, "", "ignore"):
            continue
        if not isinstance(col, str) or col not in headers:
            problems.setdefault("mapping", []).append(_l("The file has no column %(col)s.", col=str(col)))
            continue
        if not isinstance(fld, str) or fld not in FIELDS:
            problems.setdefault("mapping", []).append(_l("%(fld)s is not a field (use one of %(list)s).",
                                                         fld=str(fld), list=", ".join(FIELDS)))
            continue
        if fld in seen and fld != "aliases":
            problems.setdefault("mapping", []).append(_l("Two columns are mapped to %(fld)s.", fld=fld))
            continue
        seen[fld] = col
        clean[col] = fld
    if not problems and "name" not in clean.values():
        problems["mapping"] = [_l("No column is mapped to the name.")]
    if problems:
        raise ValueError(problems)
    return clean


# ------------------------------------------------------------------ cell values

_CRIT = {"a": "A", "b": "B", "c": "C", "d": "D", "1": "A", "2": "B", "3": "C", "4": "D"}
_LIFECYCLE = {
    "planned": ["planerad", "planerat", "planned", "pipeline", "under inforande", "inforande", "projekt", "ny"],
    "in_operation": ["i drift", "drift", "in operation", "in production", "produktion", "operational", "installed",
                     "aktiv", "active", "in use", "live", "i bruk"],
    "being_decommissioned": ["under avveckling", "avvecklas", "being decommissioned", "retiring", "utfasning",
                             "under utfasning", "pending retirement"],
    "decommissioned": ["avvecklad", "avvecklat", "decommissioned", "retired", "ur drift", "utfasad", "inaktiv"],
}
_HOSTING = {
    "own_datacentre": ["egen drift", "eget datacenter", "egen", "on prem", "on premise", "on premises", "intern drift",
                       "lokal", "own datacentre", "own data centre", "own datacenter", "internal"],
    "external_operations": ["extern drift", "externt", "extern", "external operations", "hosted", "outsourced",
                            "leverantorsdrift", "driftleverantor"],
    "saas": ["saas", "moln", "molntjanst", "cloud", "software as a service"],
}
_YES = {"ja", "j", "yes", "y", "x", "true", "sant", "1", "ok"}
_NO = {"nej", "n", "no", "false", "falskt", "0"}
_UNKNOWN = {"vet ej", "okand", "unknown", "?", "oklart", "-"}


def _lookup(table: dict[str, list[str]], text: str) -> str | None:
    t = _norm_header(text)
    for code, words in table.items():
        if t == code.replace("_", " ") or t in words:
            return code
    for code, words in table.items():
        if any(w in t for w in words if len(w) >= 5):
            return code
    return None


def parse(field: str, text: str) -> tuple[object, str | None]:
    """(value, problem) for a cell: the value to store (None when empty or not understood) and, when the
    text could not be read, why (an English message id)."""
    raw = (text or "").strip()
    if not raw:
        return None, None
    if field in ("name", "description", "supplier", "org_unit", "external_key"):
        limit = 10000 if field == "description" else 200
        return raw[:limit], None
    if field == "aliases":
        return [a.strip()[:200] for a in re.split(r"[;|\n]", raw) if a.strip()], None
    if field in ("system_owner", "risk_owner"):
        return (raw.lower(), None) if "@" in raw else (None, "not an e-mail address")
    if field == "criticality":
        t = _norm_header(raw)
        t = re.sub(r"^(kategori|category|klass|class|kritikalitet|criticality)\s*", "", t)
        code = _CRIT.get(t[:1]) if len(t) == 1 or (t[:1] in _CRIT and not t[1:2].isalnum()) else None
        return (Criticality(code).value, None) if code else (None, "not a criticality A–D")
    if field == "lifecycle":
        code = _lookup(_LIFECYCLE, raw)
        return (Lifecycle(code).value, None) if code else (None, "not a lifecycle")
    if field == "hosting":
        code = _lookup(_HOSTING, raw)
        return (Hosting(code).value, None) if code else (None, "not a hosting")
    if field == "personal_data":
        t = _norm_header(raw)
        if t in _YES:
            return PersonalData.YES.value, None
        if t in _NO:
            return PersonalData.NO.value, None
        if t in _UNKNOWN:
            return PersonalData.UNKNOWN.value, None
        return None, "not yes/no/unknown"
    if field == "priority_list":
        t = _norm_header(raw)
        if t in _YES:
            return True, None
        if t in _NO:
            return False, None
        return None, "not yes/no"
    return raw, None


def mapped_values(mapping: dict[str, str], values: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """The fields of one row ({field: value}) and the problems per field."""
    out: dict = {}
    problems: dict[str, str] = {}
    for col, fld in mapping.items():
        value, problem = parse(fld, values.get(col, ""))
        if problem:
            problems[fld] = problem
        if value is None:
            continue
        if fld == "aliases":
            out.setdefault("aliases", []).extend(value)
        else:
            out[fld] = value
    return out, problems
