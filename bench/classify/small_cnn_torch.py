"""The small CNN of `npm run train -- --data fashion-mnist --backbone small-cnn` in PyTorch: the reference that
bench/classify/run.ts times in the same run as ours (Debian python3-torch, /usr/bin/python3).

Same network (conv3x3(16)-relu-pool-conv3x3(32)-relu-pool-flatten-dense(64)-BN-relu-dropout(0.3)-dense(10)), the same
initialisation families (Glorot-uniform convolutions and output, He-normal hidden dense, zero biases), Adam 1e-3,
the same batch size and epochs, all training images, CPU with the given thread count. Prints one JSON object last.

    /usr/bin/python3 bench/classify/small_cnn_torch.py --epochs 8 --batch-size 128 --threads 2 --seed 0
"""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * d:8 + 4 * d], "big") for d in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(folder, base):
    for name in (base + ".gz", base):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise FileNotFoundError(os.path.join(folder, base))


def small_cnn(filters, units, classes, dropout):
    layers, channels = [], 1
    for f in filters:
        conv = nn.Conv2d(channels, f, 3, padding=1)
        nn.init.xavier_uniform_(conv.weight)
        nn.init.zeros_(conv.bias)
        layers += [conv, nn.ReLU(), nn.MaxPool2d(2)]
        channels = f
    side = 28 // (2 ** len(filters))
    hidden = nn.Linear(channels * side * side, units)
    nn.init.kaiming_normal_(hidden.weight, nonlinearity="relu")
    nn.init.zeros_(hidden.bias)
    out = nn.Linear(units, classes)
    nn.init.xavier_uniform_(out.weight)
    nn.init.zeros_(out.bias)
    # Keras' BatchNormalization: momentum 0.99 (PyTorch's 0.01), epsilon 1e-3.
    layers += [nn.Flatten(), hidden, nn.BatchNorm1d(units, eps=1e-3, momentum=0.01), nn.ReLU(), nn.Dropout(dropout), out]
    return nn.Sequential(*layers)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--filters", default="16,32")
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-images", type=int, default=0, help="the first N training images only (0: all)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x_train = torch.from_numpy(read_idx(find(args.data, "train-images-idx3-ubyte")).astype(np.float32) / 255.0).unsqueeze(1)
    y_train = torch.from_numpy(read_idx(find(args.data, "train-labels-idx1-ubyte")).astype(np.int64))
    x_test = torch.from_numpy(read_idx(find(args.data, "t10k-images-idx3-ubyte")).astype(np.float32) / 255.0).unsqueeze(1)
    y_test = torch.from_numpy(read_idx(find(args.data, "t10k-labels-idx1-ubyte")).astype(np.int64))
    if args.train_images:
        x_train, y_train = x_train[:args.train_images], y_train[:args.train_images]
    model = small_cnn([int(f) for f in args.filters.split(",")], args.units, 10, args.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    n = len(y_train)
    started = time.perf_counter()
    cpu_started = time.process_time()
    epochs = []
    for epoch in range(1, args.epochs + 1):
        t = time.perf_counter()
        model.train()
        order = torch.from_numpy(rng.permutation(n))
        for start in range(0, n, args.batch_size):
            idx = order[start:start + args.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
        epochs.append({"epoch": epoch, "seconds": time.perf_counter() - t})
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(x_test[s:s + 1000]).argmax(1) for s in range(0, len(y_test), 1000)])
    accuracy = (predictions == y_test).float().mean().item()
    print(json.dumps({"framework": f"pytorch {torch.__version__}", "threads": args.threads, "epochs": args.epochs,
                      "batch_size": args.batch_size, "n_train": n, "n_test": len(y_test), "accuracy": accuracy,
                      "train_seconds": seconds, "train_cpu_seconds": cpu_seconds, "epoch_seconds": [e["seconds"] for e in epochs]}))


if __name__ == "__main__":
    main()
