"""PyTorch reference for bench/engine (same shapes as bench/engine/ours.ts). Prints one JSON line.

    /usr/bin/python3 bench/engine/torch_ref.py mobilenet|smallcnn|embed-all|new-preset [--runs 5] [--threads N]
       [--data-dir DIR] [--files photos.json --seed S]

Needs Debian's python3-torch and python3-torchvision:
    apt-get install -y --no-install-recommends python3-torch python3-torchvision
"""
import argparse
import csv
import json
import os
import resource
import statistics
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision
from PIL import Image


def mobilenet(runs):
    # Same architecture and FLOPs as the tfjs MobileNetV2 (weights do not change the speed).
    model = torchvision.models.mobilenet_v2()
    model.classifier = nn.Identity()  # features → global average pool → 1280-d
    model.eval()
    gen = torch.Generator().manual_seed(1)
    pixels = torch.rand(32, 3, 224, 224, generator=gen) * 255

    def once():
        start = time.perf_counter()
        with torch.no_grad():
            out = model((pixels - 128) / 128)
            out.numpy()
        return time.perf_counter() - start

    once()
    once()
    seconds = [once() for _ in range(runs)]
    return {"value": 32 / statistics.median(seconds), "unit": "img/s", "samples": [32 / s for s in seconds]}


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16, eps=1e-3, momentum=0.01)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.dense = nn.Linear(32, 3)

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        h = nn.functional.max_pool2d(h, 2)
        h = torch.relu(self.conv2(h))
        return self.dense(h.mean(dim=(2, 3)))


def small_cnn(runs):
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(256, 3, 64, 64, generator=gen) * 2 - 1
    y = torch.randint(0, 3, (256,), generator=gen)
    model = SmallCnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def epoch():
        start = time.perf_counter()
        model.train()
        order = torch.randperm(256, generator=gen)
        for i in range(0, 256, 32):
            idx = order[i:i + 32]
            optimizer.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            loss.item()
        return time.perf_counter() - start

    epoch()
    seconds = [epoch() for _ in range(runs)]
    return {"value": statistics.median(seconds), "unit": "s/epoch", "samples": seconds}


def embed_all(data_dir):
    started = time.perf_counter()
    with open(os.path.join(data_dir, "poi_dataset.csv"), newline="", encoding="utf-8") as f:
        files = [os.path.join(data_dir, row["main_image_path"]) for row in csv.DictReader(f)]
    model = torchvision.models.mobilenet_v2()
    model.classifier = nn.Identity()
    model.eval()
    rows = []
    with torch.no_grad():
        for i in range(0, len(files), 32):
            batch = []
            for file in files[i:i + 32]:
                image = Image.open(file).convert("RGB").resize((224, 224), Image.BICUBIC)
                batch.append(np.asarray(image, dtype=np.float32))
            pixels = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2)
            rows.append(model((pixels - 128) / 128).numpy())
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "embeddings.npy"), np.concatenate(rows))
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"value": seconds, "unit": "s", "images": len(files), "peakRssMb": peak_mb}


def new_preset(files_json, seed):
    """A preset no cache holds: the training photos x 2 augmented variants at 224 and 128 px (what notebook 04
    embeds; 06 reads the 224 rows), each variant decoded, resized (bicubic), flipped (p 0.5), rotated (+-20 deg,
    bilinear) and embedded by MobileNetV2 in batches of 32. The clean rows are assumed cached, as in ours."""
    import torchvision.transforms as T

    with open(files_json) as f:
        files = json.load(f)
    torch.manual_seed(seed)
    model = torchvision.models.mobilenet_v2()
    model.classifier = nn.Identity()
    model.eval()
    augment = T.Compose([T.RandomHorizontalFlip(0.5), T.RandomRotation(20, interpolation=T.InterpolationMode.BILINEAR)])
    with torch.no_grad():
        model(torch.zeros(2, 3, 224, 224))  # warm-up, as ours loads and warms its sessions before the timed part
        started = time.perf_counter()
        images = 0
        for size in (224, 128):
            jobs = [(file, k) for file in files for k in range(2)]
            for i in range(0, len(jobs), 32):
                batch = []
                for file, _ in jobs[i:i + 32]:
                    image = Image.open(file).convert("RGB").resize((size, size), Image.BICUBIC)
                    batch.append(augment(torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1)))
                model((torch.stack(batch) - 128) / 128).numpy()
                images += len(batch)
        seconds = time.perf_counter() - started
    return {"value": seconds, "unit": "s", "images": images}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=["mobilenet", "smallcnn", "embed-all", "new-preset"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--files", default=None, help="new-preset: JSON list of the training photos")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.which == "mobilenet":
        result = mobilenet(args.runs)
    elif args.which == "smallcnn":
        result = small_cnn(args.runs)
    elif args.which == "new-preset":
        result = new_preset(args.files, args.seed)
    else:
        result = embed_all(args.data_dir)
    result.update({"torch": torch.__version__, "threads": torch.get_num_threads()})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
