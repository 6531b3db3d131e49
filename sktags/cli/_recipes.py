"""``sktags train``'s model options: the network, crops, optimiser and recipe presets.

Every option defaults to None on the command line, meaning "not given": the
tagger's parameters are then the paper's (:class:`~sktags.CNNTagger`'s
defaults), or a recipe's (:data:`sktags.models.RECIPES`) with ``--recipe``,
and the options given override either.
"""

from ..losses import LOSS_NAMES
from ..models import ARCHITECTURES, DEFAULT_LR, OPTIMIZERS, PRETRAINED_RECIPES, RECIPES
from ._errors import CLIUsageError

#: --architecture -> CNNTagger's ``module``: "paper" (the default, None) and the option set.
ARCHITECTURE_CHOICES = {"paper": None, **{name: name for name in ARCHITECTURES}}


#: Command-line destinations -> CNNTagger parameters they set.
_PARAMS = {
    "architecture": "module",
    "crop_frames": "crop_frames",
    "crop_hop": "crop_hop",
    "mixup": "mixup",
    "optimizer": "optimizer",
    "weight_decay": "weight_decay",
    "lr": "lr",
    "epochs": "max_epochs",
    "valid_size": "valid_size",
}
_FLAG = {dest: "--" + dest.replace("_", "-") for dest in _PARAMS}


def add_model_arguments(parser):
    """The network and optimiser options of ``sktags train`` (defaults: the paper's)."""
    g = parser.add_argument_group(
        "model and optimiser (defaults: the paper's configuration; with --recipe, the recipe's)"
    )
    shown = "; ".join(f"{name}: {_as_flags(params)}" for name, params in RECIPES.items())
    g.add_argument(
        "--recipe", choices=[*RECIPES, *PRETRAINED_RECIPES], default=None,
        help=f"a preset of the options below ({shown}; real-music is for your own music). "
        "Options given with it override its values. pretrained: musicnn's MSD embeddings "
        "(whole tracks) and an EmbeddingTagger head, for a few hundred labelled tracks; "
        "--lr, --weight-decay, --epochs, --valid-size, --loss apply to the head",
    )
    g.add_argument("--architecture", choices=list(ARCHITECTURE_CHOICES), default=None,
                   help="the paper's CNN, the short-chunk CNN, or musicnn's MSD network with "
                   "its front end frozen (on musicnn's spectrograms) (paper)")
    g.add_argument("--crop-frames", type=int, default=None, metavar="N",
                   help="train on random crops of N frames and predict by averaging windows "
                   "of N frames (default: whole inputs, as the paper)")
    g.add_argument("--crop-hop", type=int, default=None, metavar="N",
                   help="hop between prediction windows (default: crop-frames // 2)")
    g.add_argument("--mixup", type=float, default=None, metavar="ALPHA",
                   help="mixup's alpha; 0 disables it (0)")
    g.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                   help="Adadelta with staircase decay (the paper's), or AdamW with a "
                   "one-cycle schedule (adadelta)")
    g.add_argument("--weight-decay", type=float, default=None, metavar="W",
                   help="AdamW's decoupled weight decay (0.01)")
    g.add_argument("--lr", type=float, default=None,
                   help="learning rate; default: the optimiser's usual one (Adadelta 0.1, "
                   "as the paper; AdamW's peak 0.003)")
    g.add_argument("--epochs", type=int, default=None,
                   help="maximum number of epochs (100)")
    g.add_argument("--valid-size", type=float, default=None,
                   help="internal validation share, in [0, 1); 0: no validation (0.1)")
    g.add_argument("--loss", default=None, metavar="NAME",
                   help="the training loss: bce (the paper's weighted cross-entropy, the "
                   "default) or one for incomplete labels: " + ", ".join(LOSS_NAMES[1:]))
    g.add_argument("--loss-param", action="append", default=[], metavar="NAME=VALUE",
                   help="a parameter of the loss, e.g. gamma_neg=2 for asl (repeatable)")


def _as_flags(params):
    """A recipe's parameters as the options that set them."""
    flag_of = {key: _FLAG[dest] for dest, key in _PARAMS.items()}
    names = {None: "paper"}
    parts = []
    for key, value in params.items():
        if key == "module":
            value = names.get(value, value)
        elif key == "valid_size" and value is None:
            value = 0
        parts.append(f"{flag_of[key]} {value}")
    return " ".join(parts).replace("%", "%%")


def tagger_params(args, **run_params):
    """CNNTagger parameters of a ``sktags train`` command line (EmbeddingTagger's: pretrained).

    ``run_params`` (threshold, batch size...) are checked with them.

    Returns
    -------
    params : dict
        The paper's defaults, updated with the recipe's values, updated
        with the options given.
    preset : dict
        The recipe's parameters (empty without ``--recipe``).
    given : dict
        The parameters set by options.
    """
    from sktags.models import CNNTagger, EmbeddingTagger

    head = args.recipe in PRETRAINED_RECIPES  # an EmbeddingTagger on a backbone's embeddings
    cls = EmbeddingTagger if head else CNNTagger
    defaults = cls().get_params()
    params = {key: defaults[key] for key in _PARAMS.values() if key in defaults}
    preset = dict(RECIPES.get(args.recipe, {}))  # argparse checked the name
    given = {}
    for dest, key in _PARAMS.items():
        value = getattr(args, dest, None)
        if value is not None:
            if dest == "architecture":
                value = ARCHITECTURE_CHOICES[value]
            elif dest == "valid_size" and value == 0:
                value = None  # --valid-size 0: no validation
            given[key] = value
    cnn_only = [_FLAG[dest] for dest, key in _PARAMS.items() if key in given and key not in params]
    if cnn_only:
        raise CLIUsageError(f"{', '.join(cnn_only)}: not an option of the embedding head that "
                            f"--recipe {args.recipe} trains")
    params.update(preset)
    params.update(given)
    if args.loss is not None or args.loss_param:
        from sktags.losses import get_loss, parse_loss_param

        loss_params = dict(parse_loss_param(text) for text in args.loss_param)
        given["loss"] = params["loss"] = (get_loss(args.loss or "bce", **loss_params)
                                          if loss_params else args.loss)
    if params.get("crop_hop") is not None and params["crop_frames"] is None:
        raise CLIUsageError("--crop-hop needs --crop-frames (or a --recipe with crops)")
    # Checked by the estimator itself, before any feature is computed; its
    # ValueError is printed unchanged (exit status 1, as in every subcommand).
    cls(**params, **run_params)._validate_params()
    return params, preset, given


def describe(params, preset, given, recipe):
    """Lines that say what the recipe set and which optimiser settings are used."""
    lines = []
    if recipe in PRETRAINED_RECIPES:
        shown = ", ".join(f"{k}={v!r}" for k, v in PRETRAINED_RECIPES[recipe].items())
        return [f"recipe {recipe}: MusicnnEmbedding({shown}), then an EmbeddingTagger head ("
                + ", ".join(f"{k}={v!r}" for k, v in params.items()) + ")"]
    if recipe is not None:
        shown = ", ".join(f"{k}={v!r}" for k, v in preset.items())
        lines.append(f"recipe {recipe}: {shown}")
        over = {k: v for k, v in given.items() if k in preset and preset[k] != v}
        if over:
            lines.append("  overridden by options: " + ", ".join(f"{k}={v!r}" for k, v in over.items()))
    module = params["module"] or "paper (ibrahim2020)"
    lr = DEFAULT_LR[params["optimizer"]] if params["lr"] is None else params["lr"]
    crops = (
        f"crops of {params['crop_frames']} frames" if params["crop_frames"] is not None
        else "whole inputs"
    )
    lines.append(
        f"network {module}, {crops}, optimizer {params['optimizer']} lr={lr:g}"
        + (f" weight_decay={params['weight_decay']:g}" if params["optimizer"] == "adamw" else "")
        + (f", mixup {params['mixup']:g}" if params["mixup"] else "")
        + f", up to {params['max_epochs']} epochs, "
        + (f"validation share {params['valid_size']:g}" if params["valid_size"] else "no validation")
    )
    return lines
