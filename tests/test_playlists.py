"""match_keywords and label_tracks_from_playlists."""

import csv
import re
import unicodedata
from collections import Counter, defaultdict

import numpy as np
import pytest

from sktags import CONTEXTS
from sktags.datasets import label_tracks_from_playlists, match_keywords

# ------------------------------------------------------------ match_keywords


@pytest.mark.parametrize(
    "title, keyword, expected",
    [
        ("Party", "party", True),
        ("PARTY NIGHT", "night", True),
        ("ＰＡＲＴＹ", "party", True),  # full-width letters (NFKC)
        ("STRASSE", "straße", True),  # casefold, not lower
        ("party🎉", "party", True),
        ("🎉party🎉", "party", True),
        ("summer☀️", "summer", True),
        ("Lola's party", "party", True),
        ("Nicole’s party", "party", True),
        ("after-party", "party", True),
        ("chill/relax", "relax", True),
        ("(dance)", "dance", True),
        ("summer_2019", "summer", True),  # underscore separates (unicode mode)
        ("summer2019", "summer", False),  # digits are word characters
        ("2019summer", "summer", False),
        ("nights", "night", False),  # no stemming or plurals
        ("workout", "work", False),
        ("midnight", "night", False),
        ("açúcar", "car", False),  # accented letters are word characters
        ("busão", "bus", False),
        ("café", "café", True),
        ("cafe\u0301", "café", True),  # decomposed accent (NFKC composes it)
        ("हिन्दी गाने", "गाने", True),  # Devanagari with vowel signs
        ("हिन्दी गाने", "ह", False),  # a letter inside a word is not a word
        ("", "party", False),
        ("   ", "party", False),
    ],
)
def test_match_keywords_cases(title, keyword, expected):
    assert match_keywords([title], [keyword]).tolist() == [[expected]]


def test_missing_and_odd_titles():
    titles = [None, float("nan"), np.nan, "", b"dance \xf0\x9f\x92\x83", 1234, "dance"]
    M = match_keywords(np.array(titles, dtype=object), ["dance", "1234"])
    assert M.tolist() == [
        [False, False],
        [False, False],
        [False, False],
        [False, False],
        [True, False],
        [False, True],
        [True, False],
    ]


def test_default_keywords_are_the_contexts():
    M = match_keywords(["sad songs", "Workout & running"])
    assert M.shape == (2, 15)
    assert [CONTEXTS[j] for j in np.flatnonzero(M[0])] == ["sad"]
    assert [CONTEXTS[j] for j in np.flatnonzero(M[1])] == ["running", "workout"]


def test_multi_word_keywords():
    M = match_keywords(
        ["Road trip!", "road-trip", "trip road", "roadtrip", "long road  trip home"],
        ["road trip", "road"],
    )
    assert M[:, 0].tolist() == [True, True, False, False, True]
    assert M[:, 1].tolist() == [True, True, True, False, True]


def test_ascii_mode_reproduces_ascii_boundaries():
    M = match_keywords(["açúcar", "busão", "Wedding_reception"], ["car", "bus", "wedding"],
                       word_boundaries="ascii")
    assert M.tolist() == [[True, False, False], [False, True, False], [False, False, False]]


def test_repeated_titles_and_empty_input():
    M = match_keywords(["chill", "x", "chill"] * 3, ["chill"])
    assert M[:, 0].tolist() == [True, False, True] * 3
    assert match_keywords([], ["chill"]).shape == (0, 1)


@pytest.mark.parametrize(
    "titles, keywords, match",
    [
        ("party", None, "single string"),
        ([["a", "b"]], None, "1-D"),
        (["x"], [], "empty"),
        (["x"], "party", "single string"),
        (["x"], ["party", "Party"], "duplicates"),
        (["x"], ["!!"], "no word character"),
        (["x"], [3], "must be a string"),
    ],
)
def test_match_keywords_errors(titles, keywords, match):
    with pytest.raises(ValueError, match=match):
        match_keywords(titles, keywords)


def test_bad_word_boundaries():
    with pytest.raises(ValueError, match="word_boundaries"):
        match_keywords(["x"], ["x"], word_boundaries="latin")


def _regex_reference(titles, keywords):
    """Per-keyword regex with look-arounds: an independent matcher."""
    out = np.zeros((len(titles), len(keywords)), dtype=bool)
    pats = [
        re.compile(r"(?<![^\W_])" + re.escape(unicodedata.normalize("NFKC", k).casefold())
                   + r"(?![^\W_])")
        for k in keywords
    ]
    for i, t in enumerate(titles):
        t = unicodedata.normalize("NFKC", t).casefold()
        for j, p in enumerate(pats):
            out[i, j] = p.search(t) is not None
    return out


def test_matches_regex_reference_on_random_titles():
    rng = np.random.default_rng(0)
    words = ["party", "Party", "PARTY", "night", "nights", "sad", "é", "sadé", "chill",
             "ﬁ", "fi", "2019", "_", "x"]
    seps = [" ", "", "-", "_", "!", "’", "🎉", "☀️", "\t", "…", "ß"]
    titles = []
    for _ in range(3000):
        n = rng.integers(0, 6)
        parts = []
        for _ in range(n):
            parts.append(words[rng.integers(len(words))])
            parts.append(seps[rng.integers(len(seps))])
        titles.append("".join(parts))
    keywords = ["party", "night", "sad", "chill", "fi", "2019", "x", "ss"]
    np.testing.assert_array_equal(match_keywords(titles, keywords),
                                  _regex_reference(titles, keywords))


# ------------------------------------------- agreement with the authors' pipeline


def _authors_sample(deezer_dir):
    with open(deezer_dir / "playlist_titles_sample.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows[0] == ["playlist_id", "editor", "title", "matches"]
    return [r[2] for r in rows[1:]], [set(r[3].split(",")) for r in rows[1:]]


def _agreement(ours, theirs):
    tp = int((ours & theirs).sum())
    return tp / max(int(ours.sum()), 1), tp / max(int(theirs.sum()), 1)


def test_agreement_with_authors_matches(deezer_dir):
    titles, their_sets = _authors_sample(deezer_dir)
    vocab = sorted(set().union(*their_sets))
    assert len(vocab) == 133
    for keywords in (list(CONTEXTS), vocab):
        theirs = np.array([[k in s for k in keywords] for s in their_sets])
        # ASCII word boundaries reproduce their pipeline exactly.
        ascii_ = match_keywords(titles, keywords, word_boundaries="ascii")
        np.testing.assert_array_equal(ascii_, theirs)
        # Unicode boundaries differ on a handful of titles, all explained.
        ours = match_keywords(titles, keywords)
        precision, recall = _agreement(ours, theirs)
        assert precision >= 0.999 and recall >= 0.999
        diff = {
            (titles[i], keywords[j]): bool(ours[i, j])
            for i, j in zip(*np.nonzero(ours != theirs))
        }
        expected = {
            ("com açúcar e afeto", "car"): False,
            ("Louge - Açúcar Chic *", "car"): False,
            ("Azúcar Amargo – Fey", "car"): False,
            (":: água com açúcar ::", "car"): False,
            ("chillöööch", "chill"): False,
            ("Lets gonna worká!", "work"): False,
            ("busão", "bus"): False,
            ("música para ouvir no busão", "bus"): False,
            ("Wedding_reception before dinner", "wedding"): True,
        }
        assert diff == {k: v for k, v in expected.items() if k[1] in keywords}


# ------------------------------------------------- label_tracks_from_playlists


def _table(playlist_rows):
    """{playlist_id: (title, [(track, artist, album), ...])} -> the two tables."""
    pids, titles, m = [], [], []
    for pid, (title, rows) in playlist_rows.items():
        pids.append(pid)
        titles.append(title)
        m.extend((pid, *r) for r in rows)
    m = np.array(m, dtype=np.int64).reshape(-1, 4)
    playlists = {"playlist_id": np.array(pids), "title": np.array(titles, dtype=object)}
    memberships = dict(zip(("playlist_id", "track_id", "artist_id", "album_id"), m.T))
    return playlists, memberships


def _distinct(tracks):
    """Rows for distinct tracks, artists and albums."""
    return [(t, 1000 + t, 2000 + t) for t in tracks]


def test_max_tracks_filter():
    pl, m = _table({1: ("dance", _distinct(range(5))), 2: ("dance", _distinct(range(4)))})
    out = label_tracks_from_playlists(pl, m, keywords=["dance"], max_tracks=4, min_playlists=1)
    assert out.kept_playlist_ids.tolist() == [2]
    assert out.track_ids.tolist() == [0, 1, 2, 3]
    assert out.playlists.n_tracks.tolist() == [5, 4]
    assert out.playlists.kept.tolist() == [False, True]
    out = label_tracks_from_playlists(pl, m, keywords=["dance"], max_tracks=None, min_playlists=1)
    assert out.kept_playlist_ids.tolist() == [1, 2]
    assert out.counts[:, 0].tolist() == [2, 2, 2, 2, 1]


def test_artist_share_filter():
    # 4 tracks: artist 7 has 2 of them (0.5 > 0.25) -> dropped.
    two = [(0, 7, 20), (1, 7, 21), (2, 8, 22), (3, 9, 23)]
    # 4 tracks by 4 artists: each has exactly 0.25 (not more) -> kept.
    quarter = _distinct([10, 11, 12, 13])
    pl, m = _table({1: ("gym", two), 2: ("gym", quarter)})
    out = label_tracks_from_playlists(pl, m, keywords=["gym"], min_playlists=1)
    assert out.kept_playlist_ids.tolist() == [2]
    assert out.playlists.artist_share.tolist() == [0.5, 0.25]
    assert out.playlists.album_share.tolist() == [0.25, 0.25]
    out = label_tracks_from_playlists(pl, m, keywords=["gym"], min_playlists=1, max_share=0.5)
    assert out.kept_playlist_ids.tolist() == [1, 2]
    out = label_tracks_from_playlists(pl, m, keywords=["gym"], min_playlists=1, max_share=None)
    assert out.kept_playlist_ids.tolist() == [1, 2]


def test_album_share_filter_and_small_playlists():
    same_album = [(0, 1, 5), (1, 2, 5), (2, 3, 6), (3, 4, 7), (4, 5, 8)]  # 2/5 = 0.4
    three = _distinct([20, 21, 22])  # each artist is 1/3 > 0.25
    pl, m = _table({1: ("sad", same_album), 2: ("sad", three), 3: ("sad", _distinct(range(30, 34)))})
    out = label_tracks_from_playlists(pl, m, keywords=["sad"], min_playlists=1)
    assert out.playlists.album_share[0] == pytest.approx(0.4)
    assert out.kept_playlist_ids.tolist() == [3]
    out = label_tracks_from_playlists(pl, m, keywords=["sad"], min_playlists=1, max_share=0.4)
    assert out.kept_playlist_ids.tolist() == [1, 2, 3]  # 1/3 <= 0.4
    out = label_tracks_from_playlists(pl, m, keywords=["sad"], min_playlists=1, max_share=0.35)
    assert out.kept_playlist_ids.tolist() == [2, 3]


def test_threshold_counts_and_multi_keyword_titles():
    # Track 0 is in 3 "dance" playlists (one also "party") and 1 "chill".
    pl, m = _table({
        1: ("Dance", _distinct([0, 1, 2, 3])),
        2: ("dance & PARTY", _distinct([0, 1, 2, 4])),
        3: ("dance", _distinct([0, 5, 6, 7])),
        4: ("chill", _distinct([0, 1, 6, 7])),
        5: ("rock", _distinct([0, 1, 2, 3])),  # no keyword: ignored
    })
    kw = ["dance", "party", "chill"]
    out = label_tracks_from_playlists(pl, m, keywords=kw)
    assert out.target_names == kw
    assert out.track_ids.tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    assert out.counts.tolist() == [
        [3, 1, 1], [2, 1, 1], [2, 1, 0], [1, 0, 0],
        [1, 1, 0], [1, 0, 0], [1, 0, 1], [1, 0, 1],
    ]
    assert out.labels[:, 0].tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    assert out.labels.dtype == np.uint8 and out.labels[:, 1:].sum() == 0
    # The paper's wording, "more than 3", is min_playlists=4.
    paper = label_tracks_from_playlists(pl, m, keywords=kw, min_playlists=4)
    assert paper.labels.sum() == 0
    np.testing.assert_array_equal(paper.counts, out.counts)
    assert out.playlists.playlist_id.tolist() == [1, 2, 3, 4]
    assert out.playlists.matches.tolist() == [
        [True, False, False], [True, True, False], [True, False, False], [False, False, True]
    ]


def test_duplicate_rows_and_unknown_playlists():
    rows = _distinct([0, 1, 2, 3])
    pl, m = _table({1: ("dance", rows + rows[:1]), 2: ("dance", rows)})
    m = {k: np.r_[v, [99 if k == "playlist_id" else 0]] for k, v in m.items()}  # unknown playlist
    out = label_tracks_from_playlists(pl, m, keywords=["dance"], min_playlists=1)
    assert out.playlists.n_tracks.tolist() == [4, 4]
    assert out.counts[:, 0].tolist() == [2, 2, 2, 2]


def test_input_formats_agree():
    pl, m = _table({1: ("dance", _distinct([0, 1, 2, 3])), 2: ("gym", _distinct([1, 2, 3, 4]))})
    ref = label_tracks_from_playlists(pl, m, min_playlists=1)
    cols = ("playlist_id", "track_id", "artist_id", "album_id")
    as_tuple = label_tracks_from_playlists(
        (pl["playlist_id"], pl["title"]), tuple(m[c] for c in cols), min_playlists=1
    )
    struct = np.zeros(len(m["track_id"]), dtype=[(c, "i8") for c in cols])
    for c in cols:
        struct[c] = m[c]
    as_struct = label_tracks_from_playlists(pl, struct, min_playlists=1)
    as_strings = label_tracks_from_playlists(
        {"playlist_id": [str(p) for p in pl["playlist_id"]], "title": list(pl["title"])},
        {c: [str(v) for v in m[c]] for c in cols},
        min_playlists=1,
    )
    for other in (as_tuple, as_struct):
        np.testing.assert_array_equal(other.track_ids, ref.track_ids)
        np.testing.assert_array_equal(other.counts, ref.counts)
    assert as_strings.track_ids.tolist() == ["0", "1", "2", "3", "4"]
    np.testing.assert_array_equal(as_strings.counts, ref.counts)


def test_nothing_matches():
    pl, m = _table({1: ("rock", _distinct([0, 1, 2, 3]))})
    out = label_tracks_from_playlists(pl, m)
    assert out.track_ids.shape == (0,)
    assert out.counts.shape == (0, 15) and out.labels.shape == (0, 15)
    assert out.kept_playlist_ids.shape == (0,)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda pl, m: ({**pl, "playlist_id": np.array([1, 1])}, m), "duplicated playlist_id 1"),
        (lambda pl, m: ({"title": pl["title"]}, m), "no column 'playlist_id'"),
        (lambda pl, m: (pl, {k: v for k, v in m.items() if k != "album_id"}), "'album_id'"),
        (lambda pl, m: (pl, {**m, "track_id": m["track_id"][:-1]}), "unequal lengths"),
        (lambda pl, m: (pl, {**m, "artist_id": m["artist_id"] * 0.5}), "integer"),
        (lambda pl, m: ({**pl, "title": pl["title"][:1]}, m), "'title' has 1"),
        (lambda pl, m: (pl, {**m, "track_id": np.r_[m["track_id"][:2].astype(object), [None],
                                                  m["track_id"][3:]]}),
         r"memberships\['track_id'\] has a missing id \(None or NaN\) at row 2"),
        (lambda pl, m: ({**pl, "playlist_id": np.array([1, float("nan")], dtype=object)}, m),
         r"playlists\['playlist_id'\] has a missing id .* at row 1"),
    ],
)
def test_label_tracks_input_errors(change, match):
    pl, m = _table({1: ("dance", _distinct([0, 1, 2, 3])), 2: ("gym", _distinct([1, 2, 3, 4]))})
    pl, m = change(pl, m)
    with pytest.raises(ValueError, match=match):
        label_tracks_from_playlists(pl, m)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"max_tracks": 0}, "max_tracks"),
        ({"max_share": 0.0}, "max_share"),
        ({"max_share": 1.5}, "max_share"),
        ({"min_playlists": 0}, "min_playlists"),
        ({"min_playlists": 2.5}, "min_playlists"),
    ],
)
def test_label_tracks_param_errors(params, match):
    pl, m = _table({1: ("dance", _distinct([0, 1, 2, 3]))})
    with pytest.raises(ValueError, match=match):
        label_tracks_from_playlists(pl, m, **params)


def _naive(pids, titles, rows, keywords, max_tracks, max_share, min_playlists):
    """Dictionary-and-loop reference; titles are lowercase words joined by spaces."""
    content = defaultdict(dict)
    for p, t, a, b in rows:
        content[p].setdefault(t, (a, b))  # a repeated track counts once
    counts = defaultdict(Counter)
    kept = []
    for p, title in zip(pids, titles):
        found = [k for k in keywords if k in title.split(" ")]
        tracks = content.get(p, {})
        if not found or not tracks:
            continue
        n = len(tracks)
        if max_tracks is not None and n > max_tracks:
            continue
        top_artist = max(Counter(a for a, _ in tracks.values()).values())
        top_album = max(Counter(b for _, b in tracks.values()).values())
        if max_share is not None and (top_artist / n > max_share or top_album / n > max_share):
            continue
        kept.append(p)
        for t in tracks:
            for k in found:
                counts[t][k] += 1
    track_ids = sorted(counts)
    C = np.array([[counts[t][k] for k in keywords] for t in track_ids], dtype=np.int64)
    return np.array(track_ids), C.reshape(len(track_ids), len(keywords)), sorted(kept)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_equals_naive_on_random_data(seed):
    rng = np.random.default_rng(seed)
    keywords = ["dance", "party", "chill", "sad"]
    vocab = keywords + ["rock", "mix", "2019", "my"]
    n_pl = 300
    pids = rng.choice(10**9, size=n_pl, replace=False)
    titles = [" ".join(rng.choice(vocab, size=rng.integers(1, 4))) for _ in range(n_pl)]
    sizes = rng.integers(1, 14, size=n_pl)
    m_pl = np.repeat(pids, sizes)
    m_tr = rng.integers(0, 150, size=m_pl.size) * 7 + 3  # sparse ids; repeats happen
    m_ar = m_tr // 21 if seed != 2 else rng.integers(0, 9, size=m_pl.size)
    m_al = m_tr // 14
    # A few rows of playlists missing from the table.
    m_pl = np.r_[m_pl, [-5, -5]]
    m_tr, m_ar, m_al = np.r_[m_tr, [3, 10]], np.r_[m_ar, [0, 0]], np.r_[m_al, [0, 0]]
    if seed == 1:  # no repeated (playlist, track) rows: the path without a stable sort
        _, first = np.unique(np.c_[m_pl, m_tr], axis=0, return_index=True)
        first.sort()
        m_pl, m_tr, m_ar, m_al = m_pl[first], m_tr[first], m_ar[first], m_al[first]
    shuffle = rng.permutation(m_pl.size)
    # With seed 2 a repeated (playlist, track) row may name another artist:
    # the first row in input order wins, in both implementations.
    rows = list(zip(*(c[shuffle].tolist() for c in (m_pl, m_tr, m_ar, m_al))))
    memberships = {
        "playlist_id": m_pl[shuffle], "track_id": m_tr[shuffle],
        "artist_id": m_ar[shuffle], "album_id": m_al[shuffle],
    }
    playlists = {"playlist_id": pids, "title": np.array(titles, dtype=object)}
    for max_tracks, max_share, min_pl in [(10, 0.25, 2), (None, 0.4, 1), (8, None, 3)]:
        fast = label_tracks_from_playlists(
            playlists, memberships, keywords=keywords,
            max_tracks=max_tracks, max_share=max_share, min_playlists=min_pl,
        )
        t_ids, C, kept = _naive(pids, titles, rows, keywords, max_tracks, max_share, min_pl)
        assert len(kept) > 5
        np.testing.assert_array_equal(fast.track_ids, t_ids)
        np.testing.assert_array_equal(fast.counts, C)
        np.testing.assert_array_equal(fast.labels, (C >= min_pl).astype(np.uint8))
        assert fast.kept_playlist_ids.tolist() == kept
