"""The dataset procedure of the paper (section 3) and the released dataset.

- :func:`load_context_tags`: the released 49,929-track dataset (Zenodo record
  3648287), bundled, with its optional companion files.
- :func:`match_keywords` (keyword matching) and
  :func:`label_tracks_from_playlists` (track labelling): context
  labels from playlist titles (section 3.1).
- :func:`balance_labels`: the authors' iterative capped balancing (section 3.2).
- :func:`fetch_deezer_previews`: the 30 s audio previews from the Deezer API,
  of track ids read by :func:`read_track_ids`.
"""

from ._balance import balance_labels
from ._deezer import fetch_deezer_previews
from ._download import DownloadError
from ._keywords import match_keywords
from ._playlists import label_tracks_from_playlists
from ._released import get_data_home, load_context_tags
from ._track_ids import read_track_ids

__all__ = [
    "DownloadError",
    "balance_labels",
    "fetch_deezer_previews",
    "get_data_home",
    "label_tracks_from_playlists",
    "load_context_tags",
    "match_keywords",
    "read_track_ids",
]
