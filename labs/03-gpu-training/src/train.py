"""Train a small image classifier: CUDA when a GPU is visible, the CPU otherwise.

    python -m src.train --epochs 2 --batch-size 64 --lr 0.01 --workers 2 --run-name demo

Reads /data (made by `python -m src.data --out /data`) when it holds a data set, else makes the
same kind of data in memory. Writes /checkpoints/<run-name>.pt after every epoch and appends one
JSON line per epoch to /output/<run-name>.metrics.jsonl. The folders can be moved with --data,
--checkpoints and --output, or with DATA_DIR, CHECKPOINT_DIR and OUTPUT_DIR.

Preemptible: on SIGTERM (`docker stop`, a spot machine reclaimed, a Kubernetes eviction) it stops
after the batch it is on and exits, its last finished epoch already saved. Started again with the
same --run-name and the same /checkpoints, it resumes after that epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from src.data import CHANNELS, CLASSES, SIZE, sample


class Images(Dataset):
    """Images from a /data folder, or made on the fly from a seed (each index always the same)."""

    def __init__(self, folder: Path, count: int):
        meta = folder / "meta.json"
        self.images = self.labels = None
        if meta.is_file():
            info = json.loads(meta.read_text())
            raw = bytearray((folder / "images.f32").read_bytes())
            self.images = torch.frombuffer(raw, dtype=torch.float32).view(info["count"], CHANNELS, SIZE, SIZE)
            self.labels = torch.tensor(list((folder / "labels.u8").read_bytes()), dtype=torch.long)
        self.count = len(self.labels) if self.labels is not None else count
        self.source = str(folder) if self.labels is not None else "made in memory"

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int):
        if self.images is not None:
            return self.images[index], self.labels[index]
        pixels, label = sample(random.Random(index))
        return torch.tensor(pixels).view(CHANNELS, SIZE, SIZE), label


def model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(CHANNELS, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4),
        nn.Flatten(), nn.Linear(16 * (SIZE // 16) ** 2, CLASSES),
    )


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes (they use /dev/shm)")
    parser.add_argument("--samples", type=int, default=1024, help="when no data set is mounted")
    parser.add_argument("--run-name", default="run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("DATA_DIR", "/data")))
    parser.add_argument("--checkpoints", type=Path, default=Path(os.environ.get("CHECKPOINT_DIR", "/checkpoints")))
    parser.add_argument("--output", type=Path, default=Path(os.environ.get("OUTPUT_DIR", "/output")))
    return parser.parse_args()


STOP = {"asked": False}


def _stop_asked(signum: int, _frame: object) -> None:
    STOP["asked"] = True  # acted on between batches: a checkpoint is never cut off half-written
    print(f"signal {signal.Signals(signum).name}: stopping after this batch", flush=True)


def main() -> None:
    args = arguments()
    signal.signal(signal.SIGTERM, _stop_asked)  # as process 1, Python gets no SIGTERM without a handler
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "no GPU visible"
    print(f"device: {device.type} ({name}); torch {torch.__version__}, CUDA {torch.version.cuda}", flush=True)
    data = Images(args.data, args.samples)
    print(f"data: {len(data)} images, {data.source}", flush=True)
    loader = DataLoader(data, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                        generator=torch.Generator().manual_seed(args.seed))
    net = model().to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)
    args.checkpoints.mkdir(parents=True, exist_ok=True)
    args.output.mkdir(parents=True, exist_ok=True)
    checkpoint = args.checkpoints / f"{args.run_name}.pt"
    first = 1
    if checkpoint.is_file():  # a run stopped before its end: carry on after its last saved epoch
        saved = torch.load(checkpoint, map_location=device, weights_only=False)
        net.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        first = saved["epoch"] + 1
        print(f"resumed: {checkpoint} holds epoch {saved['epoch']}", flush=True)
    for epoch in range(first, args.epochs + 1):
        started, total, correct, loss_sum = time.monotonic(), 0, 0, 0.0
        for images, labels in loader:
            if STOP["asked"]:
                print(f"stopped during epoch {epoch}; {checkpoint} holds epoch {epoch - 1}", flush=True)
                sys.exit(143)  # 128 + SIGTERM, as a shell reports it
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            logits = net(images)
            loss = nn.functional.cross_entropy(logits, labels)
            loss.backward()
            optimizer.step()
            total += len(labels)
            correct += (logits.argmax(1) == labels).sum().item()
            loss_sum += loss.item() * len(labels)
        metrics = {"epoch": epoch, "loss": round(loss_sum / total, 4), "accuracy": round(correct / total, 4),
                   "samples": total, "seconds": round(time.monotonic() - started, 2), "device": device.type}
        with open(args.output / f"{args.run_name}.metrics.jsonl", "a") as handle:
            handle.write(json.dumps(metrics) + "\n")
        partial = checkpoint.with_suffix(".pt.tmp")
        torch.save({"epoch": epoch, "model": net.state_dict(), "optimizer": optimizer.state_dict(),
                    "run_name": args.run_name}, partial)
        partial.replace(checkpoint)  # a crash mid-write never leaves a broken checkpoint behind
        print(json.dumps(metrics), flush=True)
    print(f"done: {checkpoint}", flush=True)


if __name__ == "__main__":
    main()
