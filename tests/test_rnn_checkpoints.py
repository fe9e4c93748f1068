"""An LSTM's checkpoint keeps every weight when cuDNN holds them in one flat buffer.

On CUDA, cuDNN flattens an RNN's weights into views of one buffer; accelerate's saver then
kept one of the "shared" tensors and dropped the rest (found on an H200). The same layout is
made here on the CPU by hand, so the test runs everywhere.
"""

import torch
from accelerate import Accelerator
from model_cases import small_config

from iarc_hf.modeling_iarc import IARCModel
from iarc_hf.training.checkpoints import load_checkpoint, save_checkpoint


def flattened_like_cudnn(model: IARCModel) -> IARCModel:
    for rnn in (m for m in model.modules() if isinstance(m, torch.nn.RNNBase)):
        parameters = list(rnn.parameters())
        flat = torch.cat([p.data.reshape(-1) for p in parameters])
        offset = 0
        for p in parameters:
            p.data = flat[offset : offset + p.numel()].view_as(p)
            offset += p.numel()
    return model


def prepared(seed: int):
    torch.manual_seed(seed)
    model = flattened_like_cudnn(IARCModel(small_config("lstm")))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)
    accelerator = Accelerator(cpu=True)  # a checkpoint holds model, optimizer and scheduler
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    return accelerator, model


def test_an_lstm_with_flat_weights_saves_and_loads_every_weight(tmp_path):
    accelerator, model = prepared(seed=0)
    shared = {p.untyped_storage().data_ptr() for p in model.stack.lstm.parameters()}
    assert len(shared) == 1  # the layout cuDNN makes
    folder = save_checkpoint(accelerator, tmp_path, step=1, state={"train_seconds": 0.0}, keep=2)
    saved = dict(model.state_dict())
    accelerator, other = prepared(seed=1)
    load_checkpoint(accelerator, folder)
    for name, tensor in other.state_dict().items():
        assert torch.equal(tensor, saved[name]), name
