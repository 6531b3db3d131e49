"""The model layers' names: the old ones still resolve, for pickles made before the rename."""

import pickle

import torch

import sktags.models as models
from sktags.models import Ibrahim2020CNN, TaggerCNN, TaggerNeuralNet


def test_old_names_resolve_to_the_new_classes():
    from sktags.models._net import TaggerNet

    assert TaggerCNN is Ibrahim2020CNN
    assert TaggerNet is TaggerNeuralNet
    assert TaggerNeuralNet.__module__ == "sktags.models._skorch_net"
    # a pickle that names the old module and class loads as the new class
    assert pickle.loads(b"csktags.models._net\nTaggerNet\n.") is TaggerNeuralNet
    assert pickle.loads(b"csktags.models._networks\nTaggerCNN\n.") is Ibrahim2020CNN


def test_module_instances_pickle_under_the_new_name():
    net = Ibrahim2020CNN(8, 12, 2, filters=(2, 2), hidden_units=3).eval()
    back = pickle.loads(pickle.dumps(net))
    assert type(back) is Ibrahim2020CNN
    x = torch.zeros(1, 1, 8, 12)
    assert torch.equal(back(x), net(x))
    assert {"CNNTagger", "Ibrahim2020CNN", "TaggerNeuralNet"} <= set(dir(models))
