"""The taggers, their networks and loss, model files, recipes and option sets.

Map of the package (one concept per file):

- ``_base.py``: :class:`NeuralTagger`, what every neural tagger shares
  (targets, weights, loss, validation split, early stopping, checkpoints,
  thresholds, device, predictions);
- ``_cnn.py``: :class:`CNNTagger` (spectrograms); ``_embedding.py``:
  :class:`EmbeddingTagger` (fixed-length vectors);
- ``_inputs.py``: X validated once into one input object, and the targets;
- ``_data.py``: the datasets (whole inputs, crops, windows) and their loader;
- ``_networks.py``: the torch networks; ``_loss.py``: the weighted loss;
- ``_training.py``: the skorch net and its training loop; ``_callbacks.py``:
  its callbacks (schedules, best weights, early stopping, checkpoints);
- ``_checkpoint.py``: checkpoints; ``_persistence.py``: model files;
- ``_recipes.py``: named configurations and the option sets.

The names are imported lazily (PEP 562), so that DataLoader worker processes,
which only unpickle a dataset from :mod:`sktags.models._data`, do not import
scikit-learn and skorch.

``resolve_device`` is importable from here for the other subpackages, but is
not public (not in ``__all__``).
"""

from ..utils import lazy_exports

_EXPORTS = {
    "ARCHITECTURES": "._recipes",
    "CNNTagger": "._cnn",
    "DEFAULT_LR": "._recipes",
    "EmbeddingTagger": "._embedding",
    "Ibrahim2020CNN": "._networks",
    "NeuralTagger": "._base",
    "OPTIMIZERS": "._recipes",
    "PRECISIONS": "._recipes",
    "PRETRAINED_RECIPES": "._recipes",
    "REAL_MUSIC_RECIPE": "._recipes",
    "RECIPES": "._recipes",
    "ShortChunkCNN": "._networks",
    "TaggerNeuralNet": "._training",
    "conv_output_shape": "._networks",
    "load_model": "._persistence",
    "save_model": "._persistence",
}

# Shared with other subpackages, not part of the public API.
_INTERNAL = {"resolve_device": "._training"}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, _INTERNAL)
