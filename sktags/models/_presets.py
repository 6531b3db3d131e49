"""Named CNNTagger configurations ("recipes"), defined once.

The paper's configuration stays :class:`~sktags.CNNTagger`'s default; a
recipe is a set of parameters to pass to it. This module imports nothing,
so that the command line can list the recipes without loading torch.

>>> from sktags.models import CNNTagger, REAL_MUSIC_RECIPE
>>> tagger = CNNTagger(**REAL_MUSIC_RECIPE, random_state=0)
>>> tagger.module, tagger.crop_frames, tagger.optimizer, tagger.mixup, tagger.max_epochs
('short_chunk', 128, 'adamw', 0.4, 60)
>>> print(tagger.valid_size)
None
"""

from types import MappingProxyType

__all__ = ["REAL_MUSIC_RECIPE", "RECIPES"]

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
