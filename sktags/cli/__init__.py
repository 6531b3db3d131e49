"""The ``sktags`` command line: it parses and prints; the library does the work.

Commands (``sktags <command> --help`` describes each):

- ``extract``: audio files or folders -> a feature file and its index
  (:func:`sktags.features.write_features`);
- ``train``: fit a tagger on an audio folder or a feature file and a labels CSV;
- ``tag``: audio files or a feature file -> contexts and probabilities
  (:func:`sktags.inference.tag_files`, :class:`sktags.inference.TagOutput`);
- ``embed``: audio files -> embeddings (:func:`sktags.inference.embed_to_file`);
- ``evaluate``: the paper's Table 1 report on a labelled set;
- ``fetch-previews``: download the Deezer 30 s previews of track ids;
- ``demo``: the offline end-to-end demo on the bundled data.

Exit status, the same in every command:

- 0: success;
- 1: a file or the data is at fault, an estimator refuses an option value
  (its ``ValueError`` printed unchanged), or the output is locked by another
  run; one line on stderr (``SKTAGS_DEBUG=1`` shows the traceback);
- 2: a usage error (an unknown option or choice, a missing argument, options
  that contradict each other), one line pointing to ``--help``;
- 130: interrupted (Ctrl-C);
- 141: stdout closed early (a broken pipe), quietly.
"""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
