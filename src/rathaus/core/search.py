"""German full-text search behind one interface, the same on SQLite and PostgreSQL.

People type everyday German ("hund anmelden", "Anwohnerparkausweis", "Persnalausweis"); the
administration's names differ. So the words of both go through one analysis here:

- words are lower-cased, folded to ASCII and stemmed with the Snowball German stemmer (the
  algorithm of PostgreSQL's ``german`` configuration), minus a few stop words;
- long compounds are also indexed by their parts ("Hundesteuer" -> hund + steuer), so a query
  for a part finds the compound and vice versa;
- a query word that is not in the index is tried as a compound and with one wrong, missing or
  extra letter against the index's vocabulary (typo tolerance);
- synonyms (a list the department edits) add alternatives to a query word or phrase.

Because the analysis is ours, both databases index the very same tokens: SQLite in an FTS5
table, PostgreSQL in a ``tsvector`` column with a GIN index (configuration ``simple``, since
the tokens are already stemmed). The database finds the candidates; ranking happens here, so
the order of results is the same on both.
"""

from __future__ import annotations

import heapq
import math
import re
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import snowballstemmer
from django.db import connection, transaction
from django.db.models import QuerySet

from rathaus.core.models import SearchDocument, SearchIndexState

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 6  # what people type into a service search; more only costs time
MIN_COMPOUND = 9  # shorter words are not split
MIN_PART = 4
MAX_WORD = 40  # longer "words" are not split or corrected (the longest in LeiKa has 38)
_LINKS = ("", "s", "es", "n", "en", "e")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOP_WORDS = frozenset(
    """
    der die das den dem des ein eine einer eines einem einen und oder fur fuer von vom zu zum
    zur mit im in an am auf bei aus als ich mein meine meinen meinem meiner wir unser unsere
    wie was wo wann kann konnen will mochte moechte muss brauche benotige beantragen beantrage
    beantragung bitte online neu neue neuen
    """.split()
)

_stemmer = snowballstemmer.stemmer("german")
_stem_lock = threading.Lock()


def fold(word: str) -> str:
    """Lower case, umlauts and accents to their base letter, only [a-z0-9] kept."""
    word = word.lower().replace("ß", "ss")
    word = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in word if ch.isascii() and ch.isalnum())


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Stem of one word. The Snowball stemmer sees the umlauts; the result is folded."""
    with _stem_lock:  # the stemmer object keeps state while it works
        stemmed = _stemmer.stemWord(word.lower().replace("ß", "ss"))
    return fold(stemmed)


def words(text: str) -> list[str]:
    """The words of ``text`` as written (lower case), without stop words."""
    found = [w.lower() for w in _WORD.findall(text)]
    return [w for w in found if fold(w) and fold(w) not in STOP_WORDS]


def split_compound(word: str, lexicon: frozenset[str]) -> list[str] | None:
    """Split a (lower-case) compound into known parts, longest first part first.

    ``lexicon`` holds stems of known words. "hundesteuer" -> ["hund", "steuer"] when both
    "hund" and "steuer" are known (linking letters like the "e" of "Hunde-steuer" allowed).
    """
    folded = fold(word)
    if not MIN_COMPOUND <= len(folded) <= MAX_WORD:
        return None
    return _split(folded, lexicon, depth=0)


def _split(word: str, lexicon: frozenset[str], depth: int) -> list[str] | None:
    if depth > 3:
        return None
    for cut in range(len(word) - MIN_PART, MIN_PART - 1, -1):
        head, rest = word[:cut], word[cut:]
        if stem(head) not in lexicon and head not in lexicon:
            continue
        for link in _LINKS:
            if not rest.startswith(link):
                continue
            tail = rest[len(link) :]
            if len(tail) < MIN_PART:
                continue
            if stem(tail) in lexicon or tail in lexicon:
                return [head, tail]
            deeper = _split(tail, lexicon, depth + 1) if len(tail) >= MIN_COMPOUND else None
            if deeper:
                return [head, *deeper]
    return None


# ---- documents ---------------------------------------------------------------------------


def analyse_fields(
    fields: Mapping[str, str], lexicon: frozenset[str]
) -> tuple[dict[str, list[str]], list[str]]:
    """Index form of a document: per field the stems (``field``) and the stems of compound
    parts (``field~``); plus the folded surface words (the typo vocabulary)."""
    analysed: dict[str, list[str]] = {}
    surface: set[str] = set()
    for name, text in fields.items():
        stems: list[str] = []
        parts: list[str] = []
        for word in words(text or ""):
            folded = fold(word)
            surface.add(folded)
            stems.append(stem(word))
            split = split_compound(word, lexicon)
            if split:
                parts.extend(stem(part) for part in split)
        analysed[name] = stems
        if parts:
            analysed[f"{name}~"] = parts
    return analysed, sorted(surface)


def lexicon_from_texts(texts: Iterable[str]) -> frozenset[str]:
    """Stems of the words in ``texts`` that are long enough to be compound parts."""
    return frozenset(stem(w) for text in texts for w in words(text) if len(fold(w)) >= MIN_PART)


def index_documents(
    *,
    doc_type: str,
    documents: Mapping[str, Mapping[str, str]],
    lexicon: frozenset[str],
    primary: Iterable[str],
) -> int:
    """Write (create or replace) the search documents of ``doc_type``; returns how many.
    Matches in the ``primary`` fields are preferred by candidate_documents."""
    primary = set(primary)
    with transaction.atomic():
        existing = dict(
            SearchDocument.objects.filter(
                doc_type=doc_type, object_id__in=list(documents)
            ).values_list("object_id", "id")
        )
        to_create, to_update = [], []
        for object_id, fields in documents.items():
            analysed, surface = analyse_fields(fields, lexicon)
            main: set[str] = set()
            more: set[str] = set()
            for name, values in analysed.items():
                (main if name.rstrip("~") in primary else more).update(values)
            doc = SearchDocument(
                doc_type=doc_type,
                object_id=str(object_id),
                fields=analysed,
                tokens=" ".join(sorted(main)),
                tokens_more=" ".join(sorted(more - main)),
                words=" ".join(surface),
            )
            if object_id in existing:
                doc.pk = existing[object_id]
                to_update.append(doc)
            else:
                to_create.append(doc)
        SearchDocument.objects.bulk_create(to_create, batch_size=500)
        SearchDocument.objects.bulk_update(
            to_update, ["fields", "tokens", "tokens_more", "words"], batch_size=500
        )
        bump_version(doc_type)
    return len(documents)


def delete_documents(*, doc_type: str, object_ids: Iterable[str]) -> None:
    with transaction.atomic():
        SearchDocument.objects.filter(doc_type=doc_type, object_id__in=list(object_ids)).delete()
        bump_version(doc_type)


def bump_version(doc_type: str) -> None:
    """Raise the version of ``doc_type``: processes reload what they cached for it (this one
    at once, the others within VERSION_CHECK_SECONDS)."""
    # A clock value, not a counter: it never repeats, even if the table is emptied and filled
    # again (a counter restarting at 1 would let a process keep a stale vocabulary).
    version = time.time_ns()
    SearchIndexState.objects.update_or_create(doc_type=doc_type, defaults={"version": version})
    _version_checked.pop(doc_type, None)


VERSION_CHECK_SECONDS = 1.0
_version_checked: dict[str, tuple[float, int]] = {}  # doc_type -> (when checked, version)


def index_version(doc_type: str) -> int:
    """The index version of ``doc_type``, read from the database at most once a second per
    process: a search does not pay a round trip to learn that nothing changed."""
    now = time.monotonic()
    checked = _version_checked.get(doc_type)
    if checked is not None and now - checked[0] < VERSION_CHECK_SECONDS:
        return checked[1]
    version = (
        SearchIndexState.objects.filter(doc_type=doc_type).values_list("version", flat=True).first()
        or 0
    )
    _version_checked[doc_type] = (now, version)
    return version


def analyse_table() -> None:
    """Fresh planner statistics after a bulk (re)index, so PostgreSQL uses the GIN index."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT gin_clean_pending_list('core_searchdocument_vector'::regclass)")
            cursor.execute("ANALYZE core_searchdocument")


# ---- vocabulary (per process, reloaded when the index changes) ---------------------------


@dataclass
class Vocabulary:
    version: int
    size: int
    df: dict[str, int]  # stem -> number of documents containing it
    lexicon: frozenset[str]
    surface: frozenset[str]
    deletes: dict[str, set[str]]  # a surface word with one letter deleted -> surface words
    # Each document's analysed fields as sets (and the name in order), kept in memory so that
    # ranking reads no JSON: a few MB for the catalogue's thousands of documents.
    documents: dict[str, dict[str, frozenset[str]]]
    names: dict[str, tuple[str, ...]]
    # per field, per stem: the documents that have it there (rank's top few without scoring
    # every document one by one)
    postings: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    tie_order: dict[str, tuple[int, str]] = field(default_factory=dict)  # for equal scores
    unnamed: frozenset[str] = frozenset()  # documents without a name


_vocabularies: dict[str, Vocabulary] = {}
_vocab_lock = threading.Lock()


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def vocabulary(doc_type: str) -> Vocabulary:
    version = index_version(doc_type)
    cached = _vocabularies.get(doc_type)
    if cached is not None and cached.version == version:
        return cached
    with _vocab_lock:
        cached = _vocabularies.get(doc_type)
        if cached is not None and cached.version == version:
            return cached  # another thread loaded it while this one waited
        df: Counter[str] = Counter()
        surface: set[str] = set()
        size = 0
        documents: dict[str, dict[str, frozenset[str]]] = {}
        names: dict[str, tuple[str, ...]] = {}
        postings: dict[str, dict[str, set[str]]] = {}
        rows = SearchDocument.objects.filter(doc_type=doc_type).values_list(
            "object_id", "fields", "tokens", "tokens_more", "words"
        )
        for object_id, fields, tokens, tokens_more, surface_words in rows.iterator(chunk_size=2000):
            size += 1
            df.update(set(tokens.split()) | set(tokens_more.split()))
            surface.update(surface_words.split())
            documents[object_id] = {name: frozenset(values) for name, values in fields.items()}
            names[object_id] = tuple(fields.get("name", ()))
            for name, values in fields.items():
                by_stem = postings.setdefault(name, {})
                for value in values:
                    by_stem.setdefault(value, set()).add(object_id)
        deletes: dict[str, set[str]] = {}
        for word in surface:
            if len(word) >= 4:
                for variant in _deletes(word):
                    deletes.setdefault(variant, set()).add(word)
        vocab = Vocabulary(
            version=version,
            size=size,
            df=dict(df),
            lexicon=frozenset(s for s in df if len(s) >= MIN_PART - 1),
            surface=frozenset(surface),
            deletes=deletes,
            documents=documents,
            names=names,
            postings=postings,
            tie_order={object_id: (len(name), object_id) for object_id, name in names.items()},
            unnamed=frozenset(object_id for object_id, name in names.items() if not name),
        )
        _vocabularies[doc_type] = vocab
    return vocab


def typo_candidates(word: str, vocab: Vocabulary) -> set[str]:
    """Known words one edit away from ``word`` (a letter wrong, missing, extra or swapped)."""
    folded = fold(word)
    if not 4 <= len(folded) <= MAX_WORD:
        return set()
    found: set[str] = set()
    found |= vocab.deletes.get(folded, set())  # a letter too many in the query
    for variant in _deletes(folded):
        if variant in vocab.surface:  # a letter missing in the query
            found.add(variant)
        found |= vocab.deletes.get(variant, set())  # a letter wrong (or swapped neighbours)
    found.discard(folded)
    return {w for w in found if _one_edit(folded, w)}


def _one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    shorter, longer = sorted((a, b), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


# ---- queries ----------------------------------------------------------------------------


@dataclass
class Alternative:
    stems: tuple[str, ...]
    quality: float  # 1.0 as typed; lower for synonym, compound part, typo


@dataclass
class QueryGroup:
    """One thing the person asked for (a word or a phrase), with its alternatives."""

    text: str
    alternatives: list[Alternative] = field(default_factory=list)


@dataclass
class Query:
    groups: list[QueryGroup]
    stems: tuple[str, ...]  # the query's own stems in order (for exact-name matches)

    @property
    def tokens(self) -> set[str]:
        return {s for g in self.groups for a in g.alternatives for s in a.stems}


def clean_query(text: str) -> str:
    """The query as we work with it: at most MAX_QUERY_CHARS, no control characters."""
    text = "".join(ch if ch.isprintable() else " " for ch in (text or "")[: MAX_QUERY_CHARS * 5])
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def parse_query(
    text: str,
    vocab: Vocabulary,
    synonyms: Mapping[tuple[str, ...], Sequence[tuple[str, ...]]],
    synonym_words: frozenset[str] = frozenset(),
) -> Query:
    """Turn what was typed into groups of alternatives. Operators of FTS5 or tsquery have no
    meaning here: only letters and digits survive, so nothing typed can become syntax."""
    typed = words(clean_query(text))[:MAX_QUERY_WORDS]
    stems = tuple(stem(w) for w in typed)
    groups: list[QueryGroup] = []
    i = 0
    while i < len(typed):
        # The longest phrase (up to 3 words) that is a synonym entry forms one group.
        for length in (3, 2, 1):
            phrase = stems[i : i + length]
            expansions = synonyms.get(phrase) or synonyms.get(tuple(sorted(phrase)))
            if len(phrase) == length and expansions:
                group = QueryGroup(" ".join(typed[i : i + length]), [Alternative(phrase, 1.0)])
                group.alternatives += [Alternative(alt, 0.9) for alt in expansions]
                if length == 1:
                    _add_word_alternatives(group, typed[i], vocab, synonyms, synonym_words)
                groups.append(group)
                i += length
                break
        else:
            group = QueryGroup(typed[i], [Alternative((stems[i],), 1.0)])
            _add_word_alternatives(group, typed[i], vocab, synonyms, synonym_words)
            groups.append(group)
            i += 1
    return Query(groups=groups, stems=stems)


def _add_word_alternatives(
    group: QueryGroup,
    word: str,
    vocab: Vocabulary,
    synonyms: Mapping[tuple[str, ...], Sequence[tuple[str, ...]]],
    synonym_words: frozenset[str],
) -> None:
    own = stem(word)
    if own in vocab.df or (own,) in synonyms:
        return
    parts = split_compound(word, vocab.lexicon)
    if parts:
        group.alternatives.append(Alternative(tuple(stem(p) for p in parts), 0.8))
    folded = fold(word)
    # A typo may be of a word in the index or of a synonym ("Anwohnerparkauswies").
    candidates = typo_candidates(word, vocab) | {
        w for w in synonym_words if 4 <= len(folded) <= MAX_WORD and _one_edit(folded, w)
    }
    for candidate in sorted(candidates):
        corrected = (stem(candidate),)
        group.alternatives.append(Alternative(corrected, 0.7))
        group.alternatives += [Alternative(alt, 0.63) for alt in synonyms.get(corrected, ())]


# ---- matching and ranking -------------------------------------------------------------------


def _safe(token: str) -> bool:
    return bool(token) and token.isascii() and token.isalnum()


def candidate_documents(
    doc_type: str, query: Query, *, within: QuerySet[Any] | None = None
) -> list[str]:
    """Object ids of the documents for ``query``. Those that match every group
    (any one of its alternatives, with all the alternative's words); if there are none, those
    that match any group.

    ``within``: a query set of one text column, the object ids the candidates are limited to
    (what the caller's filters allow). The database applies it in the same query, so a
    common word does not send thousands of ids back and forth."""
    groups = [
        [alt for alt in {a.stems for a in g.alternatives} if alt and all(_safe(t) for t in alt)]
        for g in query.groups
    ]
    groups = [sorted(g) for g in groups if g]
    if not groups:
        return []
    restriction, restriction_params = "", ()
    if within is not None:
        sql, restriction_params = within.query.sql_with_params()
        restriction = f" AND d.object_id IN ({sql})"
    # Narrowest first: every group in the primary fields (name, keywords ...), then every
    # group anywhere, then any group anywhere. Documents that match only in minor fields
    # rank low anyway; leaving them out when better ones exist keeps lists short and fast.
    attempts = [(True, True), (True, False)] if len(groups) > 1 else [(True, True)]
    if connection.vendor == "postgresql":
        return _match_tiers_postgres(
            doc_type, groups, attempts, restriction, tuple(restriction_params)
        )
    for require_all, primary_only in attempts:
        found = _match(
            doc_type,
            groups,
            require_all=require_all,
            primary_only=primary_only,
            restriction=restriction,
            restriction_params=tuple(restriction_params),
        )
        if found:
            return found
    return _match(
        doc_type,
        groups,
        require_all=False,
        primary_only=False,
        restriction=restriction,
        restriction_params=tuple(restriction_params),
    )


def _tsquery(groups: list[list[tuple[str, ...]]], *, require_all: bool, primary_only: bool) -> str:
    weight = ":A" if primary_only else ""
    joiner = " & " if require_all else " | "
    return joiner.join(
        "(" + " | ".join("(" + " & ".join(t + weight for t in alt) + ")" for alt in g) + ")"
        for g in groups
    )


def _match_tiers_postgres(
    doc_type: str,
    groups: list[list[tuple[str, ...]]],
    attempts: list[tuple[bool, bool]],
    restriction: str = "",
    restriction_params: tuple[Any, ...] = (),
) -> list[str]:
    """The same tiers as on SQLite, in one scan: every document matching any group, with a
    flag per narrower tier; the narrowest non-empty tier wins."""
    flags = ", ".join("d.vector @@ to_tsquery('simple', %s)" for _ in attempts)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.object_id, {flags} FROM core_searchdocument d "  # noqa: S608 - no input in the SQL text
            f"WHERE d.doc_type = %s AND d.vector @@ to_tsquery('simple', %s){restriction}",
            [
                *(_tsquery(groups, require_all=a, primary_only=p) for a, p in attempts),
                doc_type,
                _tsquery(groups, require_all=False, primary_only=False),
                *restriction_params,
            ],
        )
        rows = cursor.fetchall()
    for tier in range(len(attempts)):
        found = [row[0] for row in rows if row[1 + tier]]
        if found:
            return found
    return [row[0] for row in rows]


def _match(
    doc_type: str,
    groups: list[list[tuple[str, ...]]],
    *,
    require_all: bool,
    primary_only: bool,
    restriction: str = "",
    restriction_params: tuple[Any, ...] = (),
) -> list[str]:
    """SQLite's part (PostgreSQL: _match_tiers_postgres). Tokens are [a-z0-9] only, so
    nothing typed becomes FTS5 syntax."""
    joiner = " AND " if require_all else " OR "
    expression = joiner.join(
        "(" + " OR ".join("(" + " AND ".join(f'"{t}"' for t in alt) + ")" for alt in g) + ")"
        for g in groups
    )
    if primary_only:
        expression = "tokens : (" + expression + ")"
    with connection.cursor() as cursor:
        # CROSS JOIN keeps SQLite from scanning every document and probing FTS per row.
        cursor.execute(
            "SELECT d.object_id FROM core_searchfts f "  # noqa: S608 - no input in the SQL text
            "CROSS JOIN core_searchdocument d ON d.id = f.rowid "
            f"WHERE core_searchfts MATCH %s AND d.doc_type = %s{restriction}",
            [expression, doc_type, *restriction_params],
        )
        return [row[0] for row in cursor.fetchall()]


_NONE: frozenset[str] = frozenset()


@dataclass
class Hit:
    object_id: str
    score: float
    name_length: int


def rank(
    query: Query,
    object_ids: Iterable[str],
    *,
    weights: Mapping[str, float],
    vocab: Vocabulary,
    name_field: str = "name",
    limit: int | None = None,
) -> list[Hit]:
    """Score documents for ``query``.

    Per group: the best alternative in the best field (field weight x 0.8 when only a compound
    part matched x the alternative's quality), times the rarity of what was typed. Then the
    name decides: the share of the name's words that were asked for (so "Gewerbe" ranks the
    service called "Gewerbe" above "Gewerbe Anmeldung"), a bonus when every group is in the
    name, and a large one when the name is exactly what was asked. Ties: shorter name, id.

    ``limit``: only the best ``limit`` hits, the very same as ``rank(...)[:limit]``, but
    documents that cannot reach them are not scored (see _rank_best).
    """
    n = max(vocab.size, 1)

    def idf(stems: tuple[str, ...]) -> float:
        return sum(math.log(1 + n / (1 + vocab.df.get(s, 0))) for s in stems) / len(stems)

    plans = [
        (idf(group.alternatives[0].stems), [(a.stems, a.quality) for a in group.alternatives])
        for group in query.groups
    ]
    exact_names = {query.stems}
    if len(query.groups) == 1:
        exact_names |= {a.stems for a in query.groups[0].alternatives if a.quality >= 0.9}
    field_plan = sorted(
        ((name, weight, name + "~") for name, weight in weights.items()), key=lambda f: -f[1]
    )
    # The same products as the plain loop computed, once per query instead of per document
    # (same operands in the same order: the same floats, so the same order of results).
    compiled = [
        (
            group_idf,
            [
                (
                    stems,
                    frozenset(stems),
                    [
                        (name, parts_name, weight * quality, weight * 0.8 * quality)
                        for name, weight, parts_name in field_plan
                    ],
                )
                for stems, quality in alternatives
            ],
        )
        for group_idf, alternatives in plans
    ]
    documents, names = vocab.documents, vocab.names
    parts_field = name_field + "~"

    def score_of(object_id: str) -> Hit | None:
        sets = documents.get(object_id)
        if sets is None:
            return None  # indexed after this process loaded the vocabulary
        name_words = names.get(object_id, ())
        name_set, name_parts = sets.get(name_field, _NONE), sets.get(parts_field, _NONE)
        score = 0.0
        groups_in_name = 0
        covered: set[str] = set()
        for group_idf, alternatives in compiled:
            best = 0.0
            best_stems: tuple[str, ...] = ()
            for stems, needed, fields in alternatives:
                for name, parts_name, full, partial in fields:
                    if full <= best:
                        break  # fields come heaviest first: nothing better can follow
                    exact = sets.get(name, _NONE)
                    if needed <= exact:
                        value = full
                    else:
                        if not needed - exact <= sets.get(parts_name, _NONE):
                            continue
                        value = partial
                    if value > best:
                        best, best_stems = value, stems
            if best > 0:
                score += best * group_idf
                if all(s in name_set or s in name_parts for s in best_stems):
                    groups_in_name += 1
                    covered.update(best_stems)
        if score <= 0:
            return None
        if name_words:
            share = len([w for w in name_words if w in covered]) + len(covered & name_parts)
            score *= 0.5 + 0.5 * min(1.0, share / len(name_words))
        if plans and groups_in_name == len(plans):
            score *= 1.3
        if tuple(name_words) in exact_names:
            score *= 3.0
        return Hit(object_id=object_id, score=score, name_length=len(name_words))

    if limit is not None:
        return _rank_best(
            query, object_ids, limit, score_of, plans, weights, vocab, name_field=name_field
        )
    hits = [hit for hit in map(score_of, object_ids) if hit is not None]
    hits.sort(key=_hit_order)
    return hits


def _hit_order(hit: Hit) -> tuple[float, int, str]:
    return (-round(hit.score, 6), hit.name_length, hit.object_id)


def _rank_best(
    query: Query,
    object_ids: Iterable[str],
    limit: int,
    score_of: Callable[[str], Hit | None],
    plans: list[tuple[float, list[tuple[tuple[str, ...], float]]]],
    weights: Mapping[str, float],
    vocab: Vocabulary,
    *,
    name_field: str,
) -> list[Hit]:
    """The best ``limit`` hits, the same as scoring every document, in far less time.

    Only documents with a query word in their name (even as a compound part), and those
    without a name, are scored one by one. For all the others the name adds nothing: per
    group the best field and alternative decide (as in rank), times the 0.5 a name without
    any asked-for word leaves. So they fall into a few classes of equal score, found with
    set operations on the per-field postings; within a class the order is by name length
    and id, and only the first ``limit`` of the best classes are taken.
    """
    limit = max(limit, 0)
    alternatives = [alt for _idf, group in plans for alt in group]
    if not (
        limit > 0
        and plans
        and all(stems and quality >= 0 for stems, quality in alternatives)
        and all(weight >= 0 for weight in weights.values())
    ):
        hits = [hit for hit in map(score_of, object_ids) if hit is not None]
        hits.sort(key=_hit_order)
        return hits[:limit]
    postings, names = vocab.postings, vocab.names
    candidates = set(object_ids).intersection(vocab.documents)
    one_by_one: set[str] = set()
    for name in (name_field, name_field + "~"):
        by_stem = postings.get(name, {})
        for token in query.tokens:
            one_by_one |= by_stem.get(token, _NO_DOCS)
    one_by_one &= candidates
    one_by_one |= candidates & vocab.unnamed
    rest = candidates - one_by_one
    hits = [hit for hit in map(score_of, one_by_one) if hit is not None]

    fields = sorted(weights.items(), key=lambda f: -f[1])
    classes: list[tuple[float, set[str]]] = [(0.0, rest)] if rest else []
    for group_idf, group in plans:
        # the value rank would give this group, per document: the best (field, alternative)
        found: list[tuple[float, set[str]]] = []
        for stems, quality in group:
            for name, weight in fields:
                exact = _all_of(postings, (name,), stems)
                found.append((weight * quality, exact))
                found.append((weight * 0.8 * quality, _all_of(postings, (name, name + "~"), stems)))
        found.sort(key=lambda f: -f[0])
        remaining = set(rest)
        values: list[tuple[float, set[str]]] = []
        for value, documents in found:
            if value <= 0 or not remaining:
                break
            matched = remaining & documents
            if matched:
                values.append((value, matched))
                remaining -= matched
        refined: list[tuple[float, set[str]]] = []
        for partial, members in classes:
            for value, documents in values:
                matched = members & documents
                if matched:
                    refined.append((partial + value * group_idf, matched))
                    members = members - matched
            if members:
                refined.append((partial, members))
        classes = refined
    scored = sorted(
        ((score * 0.5, members) for score, members in classes if score > 0),
        key=lambda c: -round(c[0], 6),
    )
    taken = 0
    boundary: float | None = None
    for score, members in scored:
        if boundary is not None and round(score, 6) != boundary:
            break
        for object_id in heapq.nsmallest(limit, members, key=vocab.tie_order.__getitem__):
            hits.append(Hit(object_id=object_id, score=score, name_length=len(names[object_id])))
        taken += len(members)
        if taken >= limit and boundary is None:
            boundary = round(score, 6)
    hits.sort(key=_hit_order)
    return hits[:limit]


_NO_DOCS: set[str] = set()


def _all_of(
    postings: dict[str, dict[str, set[str]]], fields: tuple[str, ...], stems: tuple[str, ...]
) -> set[str]:
    """The documents with every one of ``stems`` in (any one of) ``fields``."""
    found: set[str] | None = None
    for stem_ in stems:
        having: set[str] = set()
        for name in fields:
            having |= postings.get(name, {}).get(stem_, _NO_DOCS)
        found = having if found is None else found & having
        if not found:
            return set()
    return found or set()
