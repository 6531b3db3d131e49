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

__all__ = ["ARCHITECTURES", "DEFAULT_LR", "OPTIMIZERS", "PRECISIONS", "REAL_MUSIC_RECIPE",
           "RECIPES"]

#: Network names of CNNTagger's ``module`` (the first is the paper's).
ARCHITECTURES = ("ibrahim2020", "short_chunk")
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

#: Named recipes (name -> CNNTagger parameters), as ``sktags train --recipe`` offers them.
RECIPES = MappingProxyType({"real-music": REAL_MUSIC_RECIPE})
