"""Named CNNTagger configurations ("recipes") and the option sets of the taggers, defined once.

The paper's configuration stays :class:`~sktags.CNNTagger`'s default; a
recipe is a set of parameters to pass to it. The option sets are the values
that the taggers' string parameters accept; the parameter constraints and the
command line's ``choices`` read them from here. This module imports only the
standard library, so that the command line can list them without loading torch.

>>> from sktags.models import CNNTagger, REAL_MUSIC_RECIPE
>>> tagger = CNNTagger(**REAL_MUSIC_RECIPE, random_state=0)
>>> tagger.module, tagger.crop_frames, tagger.optimizer, tagger.mixup, tagger.max_epochs
('short_chunk', 128, 'adamw', 0.4, 60)
>>> print(tagger.valid_size)
None
"""

from types import MappingProxyType

__all__ = ["ARCHITECTURES", "DEFAULT_LR", "OPTIMIZERS", "PRECISIONS", "PRETRAINED_RECIPES",
           "REAL_MUSIC_RECIPE", "RECIPES"]

#: Network names of CNNTagger's ``module`` (the first is the paper's; "musicnn" is
#: musicnn's released MSD network with its front end frozen, for fine-tuning).
ARCHITECTURES = ("ibrahim2020", "short_chunk", "musicnn")
#: CNNTagger's ``optimizer`` values (the first is the paper's).
OPTIMIZERS = ("adadelta", "adamw")
#: The ``precision`` values of the neural taggers.
PRECISIONS = ("float32", "bfloat16", "float16")
#: Learning rate used when ``lr`` is None, per optimizer.
DEFAULT_LR = MappingProxyType({"adadelta": 0.1, "adamw": 3e-3})

#: The real-music recipe: CNNTagger parameters for training on your own music
#: (see ``docs/real_music.rst``); ``sktags train --recipe real-music`` applies them.
REAL_MUSIC_RECIPE = MappingProxyType({
    "module": "short_chunk",
    "crop_frames": 128,
    "optimizer": "adamw",
    "mixup": 0.4,
    "max_epochs": 60,
    "valid_size": None,
})

#: Fine-tuning musicnn's released MSD weights, front end frozen, on 187-frame crops of
#: spectrograms of :func:`sktags.pretrained.musicnn_frontend` (``sktags train --recipe
#: musicnn-finetune`` extracts them); measured in ``benchmarks/bench_4q_emotion.py``.
MUSICNN_FINETUNE_RECIPE = MappingProxyType({
    "module": "musicnn",
    "crop_frames": 187,
    "crop_hop": 187,
    "optimizer": "adamw",
    "lr": 1e-3,
    "max_epochs": 10,
    "valid_size": None,
})

#: Named recipes (name -> CNNTagger parameters), as ``sktags train --recipe`` offers them.
RECIPES = MappingProxyType({"real-music": REAL_MUSIC_RECIPE,
                            "musicnn-finetune": MUSICNN_FINETUNE_RECIPE})

#: Recipes that are pipelines, not CNNTagger parameters (name -> parameters of
#: :class:`~sktags.pretrained.MusicnnEmbedding`): that backbone, then an
#: :class:`~sktags.EmbeddingTagger` head with its defaults, i.e.
#: ``make_pipeline(MusicnnEmbedding(**params), EmbeddingTagger())``. ``sktags train
#: --recipe pretrained`` trains it, with the head's options (see :doc:`/pretrained`).
PRETRAINED_RECIPES = MappingProxyType({
    "pretrained": MappingProxyType({"model": "msd", "layer": "penultimate", "pooling": "mean"}),
})
