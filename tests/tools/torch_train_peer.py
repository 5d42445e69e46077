#!/usr/bin/python3
"""MSI-Net in plain PyTorch eager mode, and the time of one training step on the CPU.

The network is written from docs/reference-semantics.md (the original TensorFlow model.py and
loss.py), on its own, as the peer that `msinet bench --train --peer torch` measures beside
msinet's own step. One step = zero_grad, forward, KLD loss, backward, Adam(lr 1e-5) step, on
random (seeded) weights and a random input, as msinet's train job does it.

    /usr/bin/python3 tests/tools/torch_train_peer.py --size 240x320 --batch 1 --threads 2 \
        --steps 5 --warmup 1 [--channels-last]

prints one JSON line: size, batch, threads, channels_last, step_ms_median, step_ms_all, torch,
parameters, output_shape.
"""

import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# ref: saliency/model.py: Caffe BGR means, subtracted from RGB input on purpose.
RGB_MEAN = (103.939, 116.779, 123.68)
EPS = 1e-7


def same_conv(cin, cout, k, dilation=1):
    """TF "same" convolution for odd kernels at stride 1: d*(k-1)/2 on every side."""
    return nn.Conv2d(cin, cout, k, padding=dilation * (k - 1) // 2, dilation=dilation, bias=True)


def pool_same_stride1(x):
    """TF max-pool 2x2, stride 1, SAME: one padded cell right and bottom that never wins."""
    return F.max_pool2d(F.pad(x, (0, 1, 0, 1), value=float("-inf")), 2, stride=1)


def upsample2_legacy(x):
    """TF1 resize_bilinear(align_corners=False, half_pixel_centers=False) to twice the size:
    out[2k] = in[k], out[2k+1] = (in[k] + in[min(k+1, n-1)]) / 2, along width then height."""
    nxt = torch.cat((x[..., 1:], x[..., -1:]), dim=-1)
    x = torch.stack((x, 0.5 * (x + nxt)), dim=-1).flatten(-2)
    nxt = torch.cat((x[..., 1:, :], x[..., -1:, :]), dim=-2)
    return torch.stack((x, 0.5 * (x + nxt)), dim=-2).flatten(-3, -2)


class MSINet(nn.Module):
    def __init__(self):
        super().__init__()
        vgg = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256),
               (256, 512), (512, 512), (512, 512)]
        self.vgg = nn.ModuleList(same_conv(i, o, 3) for i, o in vgg)
        self.conv5 = nn.ModuleList(same_conv(512, 512, 3, dilation=2) for _ in range(3))
        self.aspp_1x1 = same_conv(1280, 256, 1)
        self.aspp_dilated = nn.ModuleList(same_conv(1280, 256, 3, dilation=d) for d in (4, 8, 12))
        self.aspp_pool = nn.Conv2d(1280, 256, 1)
        self.aspp_out = same_conv(1280, 256, 1)
        self.dec = nn.ModuleList(same_conv(i, o, 3) for i, o in ((256, 128), (128, 64), (64, 32)))
        self.dec_out = same_conv(32, 1, 3)
        mean = torch.tensor(RGB_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
        self.register_buffer("mean", mean, persistent=False)

    def encoder(self, x):
        c = self.vgg
        x = F.relu(c[1](F.relu(c[0](x))))
        x = F.max_pool2d(x, 2, 2)
        x = F.relu(c[3](F.relu(c[2](x))))
        x = F.max_pool2d(x, 2, 2)
        for i in (4, 5, 6):
            x = F.relu(c[i](x))
        p3 = F.max_pool2d(x, 2, 2)
        x = p3
        for i in (7, 8, 9):
            x = F.relu(c[i](x))
        p4 = pool_same_stride1(x)
        x = p4
        for conv in self.conv5:
            x = F.relu(conv(x))
        p5 = pool_same_stride1(x)
        return torch.cat((p3, p4, p5), dim=1)

    def aspp(self, x):
        branches = [F.relu(self.aspp_1x1(x))]
        branches += [F.relu(conv(x)) for conv in self.aspp_dilated]
        g = F.relu(self.aspp_pool(x.mean(dim=(2, 3), keepdim=True)))
        branches.append(g.expand(-1, -1, x.shape[2], x.shape[3]))
        return F.relu(self.aspp_out(torch.cat(branches, dim=1)))

    def decoder(self, x):
        for conv in self.dec:
            x = F.relu(conv(upsample2_legacy(x)))
        return self.dec_out(x)

    def forward(self, rgb):
        m = self.decoder(self.aspp(self.encoder(rgb - self.mean)))
        # ref: model.py: per image, m -= min(m); m /= eps + max(m).
        m = m - m.amin(dim=(1, 2, 3), keepdim=True)
        return m / (EPS + m.amax(dim=(1, 2, 3), keepdim=True))


def kld_loss(y_true, y_pred):
    """ref: saliency/loss.py kld: per image, mean over the batch."""
    t = y_true / (EPS + y_true.sum(dim=(1, 2, 3), keepdim=True))
    p = y_pred / (EPS + y_pred.sum(dim=(1, 2, 3), keepdim=True))
    return (t * torch.log(EPS + t / (EPS + p))).sum(dim=(1, 2, 3)).mean()


def random_net(seed):
    torch.manual_seed(seed)
    net = MSINet()
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith(".bias"):
                p.uniform_(-0.1, 0.1)
    return net


def parse_size(text):
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size '{text}' is not HxW")
    if h <= 0 or w <= 0 or h % 8 or w % 8:
        raise argparse.ArgumentTypeError(f"size '{text}': height and width must be multiples of 8")
    return h, w


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=parse_size, default=(240, 320), help="HxW")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5, help="timed steps")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    ap.add_argument("--channels-last", action="store_true",
                    help="model and input in channels-last memory format")
    ap.add_argument("--seed", type=int, default=43)
    a = ap.parse_args()
    if a.batch < 1 or a.threads < 1 or a.steps < 1 or a.warmup < 0:
        ap.error("--batch, --threads and --steps must be at least 1, --warmup at least 0")

    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    h, w = a.size
    net = random_net(a.seed)
    net.train()
    gen = torch.Generator().manual_seed(a.seed + 1)
    x = torch.rand(a.batch, 3, h, w, generator=gen) * 255
    y = torch.rand(a.batch, 1, h, w, generator=gen) * 255
    if a.channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
        y = y.contiguous(memory_format=torch.channels_last)
    adam = torch.optim.Adam(net.parameters(), lr=1e-5)
    out_shape = []

    def step():
        adam.zero_grad()
        pred = net(x)
        loss = kld_loss(y, pred)
        loss.backward()
        adam.step()
        out_shape[:] = list(pred.shape)
        return loss.item()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append(1e3 * (time.perf_counter() - t0))
    print(json.dumps({
        "size": f"{h}x{w}",
        "batch": a.batch,
        "threads": a.threads,
        "channels_last": a.channels_last,
        "step_ms_median": statistics.median(times),
        "step_ms_all": times,
        "torch": torch.__version__,
        "parameters": sum(p.numel() for p in net.parameters()),
        "output_shape": out_shape,
        "loss": loss,
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
