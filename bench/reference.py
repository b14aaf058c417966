#!/usr/bin/env python3
"""The course's PyTorch pipeline for IMDB sentiment, as a notebook writes it, for
benchmarking imdb-rnn against (bench/run.sh).

What it does, on purpose the plain way:
  * reads the labeled reviews straight out of the aclImdb .tar.gz with `tarfile`;
  * tokenizes with `re.sub(r'[^a-z0-9\\s]', '', text.lower()).split()`;
  * builds the vocabulary with `collections.Counter`: the 10,000 most frequent train
    words, plus <pad>=0 and <unk>=1;
  * a torch `Dataset` that tokenizes and encodes each review in `__getitem__`
    (truncated to 200 tokens, padded with 0 at the end), `DataLoader(batch_size=64,
    shuffle=True)` for training and `DataLoader(batch_size=64)` for the test set;
  * Embedding(10002, 100) -> nn.RNN / nn.LSTM / nn.GRU(100, 128, batch_first=True,
    num_layers=L) -> Linear(128, 1) on the last layer's final hidden state h_n[-1];
  * BCEWithLogitsLoss, Adam(lr=1e-3).

Like imdb-rnn, the vocabulary comes from the whole train split; `--subset N` then
trains and tests on a seeded random N reviews of each split.

`--device cuda` runs the same on a GPU (batches moved with `.to(device)`, as notebooks
do). `--preloaded` replaces the data pipeline by the fastest loop libtorch allows, the
yardstick for imdb-rnn's own GPU epoch: both splits encoded once into tensors on the
device, batches taken with `index_select` there, the same forward/backward/Adam steps,
the loss summed on the device and read once per epoch.

Prints one JSON object: data-preparation seconds (read, vocabulary, and one encoding
pass over both splits, which the Dataset otherwise repeats every epoch), and per epoch
the train and test-evaluation seconds and accuracies.
"""
import argparse
import collections
import json
import os
import random
import re
import sys
import tarfile
import time
import warnings

# The benchmark's venv has no numpy; torch warns about it once at import. Not needed here.
warnings.filterwarnings("ignore", message=".*NumPy.*")
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402

REVIEW = re.compile(r"^(?:\./)?aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


def tokenize(text):
    return re.sub(r"[^a-z0-9\s]", "", text.lower()).split()


def read_archive(path):
    """{'train': [(text, label)], 'test': [...]}, in archive order."""
    splits = {"train": [], "test": []}
    with tarfile.open(path, "r:*") as tf:
        for member in tf:
            if not member.isfile():
                continue
            m = REVIEW.match(member.name)
            if not m:
                continue
            text = tf.extractfile(member).read().decode("utf-8", errors="replace")
            splits[m.group(1)].append((text, 1.0 if m.group(2) == "pos" else 0.0))
    return splits


def build_vocab(texts, size):
    counter = collections.Counter()
    for text in texts:
        counter.update(tokenize(text))
    word2idx = {"<pad>": 0, "<unk>": 1}
    for word, _ in counter.most_common(size):
        word2idx[word] = len(word2idx)
    return word2idx, counter


class ReviewDataset(Dataset):
    def __init__(self, items, word2idx, max_len):
        self.items = items
        self.word2idx = word2idx
        self.max_len = max_len

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        text, label = self.items[i]
        ids = [self.word2idx.get(w, 1) for w in tokenize(text)][: self.max_len]
        ids += [0] * (self.max_len - len(ids))
        return torch.tensor(ids, dtype=torch.long), torch.tensor(label, dtype=torch.float)


class Classifier(nn.Module):
    def __init__(self, cell, vocab_size, emb_dim, hidden, layers):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim)
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(emb_dim, hidden, num_layers=layers, batch_first=True)
        self.fc = nn.Linear(hidden, 1)

    def forward(self, x):
        _, h = self.rnn(self.embedding(x))
        if isinstance(h, tuple):  # LSTM: (h_n, c_n)
            h = h[0]
        return self.fc(h[-1]).squeeze(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--imdb", default=os.environ.get("IMDB", "../shared/data/aclImdb_labeled.tar.gz"))
    ap.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="lstm")
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--subset", type=int, default=None, help="seeded random N reviews of each split")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab-size", type=int, default=10_000)
    ap.add_argument("--max-len", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--emb-dim", type=int, default=100)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--prep-only", action="store_true", help="time the data preparation only")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    ap.add_argument("--preloaded", action="store_true",
                    help="train from tensors encoded once and kept on the device (no DataLoader)")
    ap.add_argument("--flush-denormal", action="store_true",
                    help="torch.set_flush_denormal(True) before any work (what imdb-rnn does by default)")
    args = ap.parse_args()

    if args.flush_denormal:
        # Set on this thread before torch starts its OpenMP team, which inherits it.
        torch.set_flush_denormal(True)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    out = {
        "implementation": "pytorch-reference",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "flush_denormal": args.flush_denormal,
        "cell": args.cell,
        "layers": args.layers,
        "subset": args.subset,
        "device": args.device,
        "preloaded": args.preloaded,
    }
    device = torch.device(args.device)

    t0 = time.perf_counter()
    splits = read_archive(args.imdb)
    t1 = time.perf_counter()
    word2idx, counter = build_vocab((t for t, _ in splits["train"]), args.vocab_size)
    t2 = time.perf_counter()
    train_all = ReviewDataset(splits["train"], word2idx, args.max_len)
    test_all = ReviewDataset(splits["test"], word2idx, args.max_len)
    prep = {
        "read_seconds": t1 - t0,
        "vocab_seconds": t2 - t1,
        "train_reviews": len(train_all),
        "test_reviews": len(test_all),
        "train_tokens": sum(counter.values()),
        "train_distinct": len(counter),
    }
    if args.prep_only:
        # One pass of __getitem__ over both splits: the encoding imdb-rnn does once
        # (and caches), which the course's Dataset redoes every epoch.
        t3 = time.perf_counter()
        for ds in (train_all, test_all):
            for i in range(len(ds)):
                ds[i]
        prep["encode_seconds"] = time.perf_counter() - t3
        prep["total_seconds"] = prep["read_seconds"] + prep["vocab_seconds"] + prep["encode_seconds"]
        out["prep"] = prep
        print(json.dumps(out, indent=2))
        return

    def subset(ds, stream):
        if args.subset is None or args.subset >= len(ds):
            return ds
        keep = sorted(random.Random(args.seed * 1000 + stream).sample(range(len(ds)), args.subset))
        return ReviewDataset([ds.items[i] for i in keep], word2idx, args.max_len)

    train_ds, test_ds = subset(train_all, 1), subset(test_all, 2)
    train_loader = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_ds, batch_size=args.batch_size)
    prep["total_seconds"] = time.perf_counter() - t0
    out["prep"] = prep

    model = Classifier(args.cell, len(word2idx), args.emb_dim, args.hidden, args.layers).to(device)
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    if args.preloaded:
        epochs = train_preloaded(args, model, criterion, optimizer, train_ds, test_ds, device, sync)
    else:
        epochs = train_notebook(args, model, criterion, optimizer, train_loader, test_loader, device, sync)
    out["epochs"] = epochs
    out["mean_epoch_seconds"] = sum(e["epoch_seconds"] for e in epochs) / max(len(epochs), 1)
    out["final_test_acc"] = epochs[-1]["test_acc"] if epochs else None
    print(json.dumps(out, indent=2))


def train_step(model, criterion, optimizer, x, y):
    """One forward/backward/Adam step, the same in both loops; returns (logits, loss)."""
    optimizer.zero_grad()
    logits = model(x)
    loss = criterion(logits, y)
    loss.backward()
    optimizer.step()
    return logits, loss


def train_notebook(args, model, criterion, optimizer, train_loader, test_loader, device, sync):
    """The course's loop: DataLoader batches, `.item()` every step."""
    epochs = []
    for epoch in range(1, args.epochs + 1):
        sync()
        start = time.perf_counter()
        model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            logits, loss = train_step(model, criterion, optimizer, x, y)
            loss_sum += loss.item() * len(y)
            correct += ((logits > 0).float() == y).sum().item()
            seen += len(y)
        sync()
        train_seconds = time.perf_counter() - start
        model.eval()
        test_correct, test_seen = 0, 0
        with torch.no_grad():
            for x, y in test_loader:
                x, y = x.to(device), y.to(device)
                logits = model(x)
                test_correct += ((logits > 0).float() == y).sum().item()
                test_seen += len(y)
        sync()
        epochs.append(epoch_record(epoch, start, train_seconds, loss_sum, correct, seen, test_correct, test_seen))
    return epochs


def encode_all(ds, device):
    """[N, max_len] token ids and [N] labels, on the device."""
    xs, ys = zip(*(ds[i] for i in range(len(ds))))
    return torch.stack(xs).to(device), torch.stack(ys).to(device)


def train_preloaded(args, model, criterion, optimizer, train_ds, test_ds, device, sync):
    """The same steps on tensors already on the device; one host sync per epoch."""
    train_x, train_y = encode_all(train_ds, device)
    test_x, test_y = encode_all(test_ds, device)
    n, bs = len(train_y), args.batch_size
    generator = torch.Generator(device="cpu").manual_seed(args.seed)
    epochs = []
    for epoch in range(1, args.epochs + 1):
        sync()
        start = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=generator).to(device)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        for b in range(0, n, bs):
            idx = perm[b:b + bs]
            x, y = train_x.index_select(0, idx), train_y.index_select(0, idx)
            logits, loss = train_step(model, criterion, optimizer, x, y)
            loss_sum += loss.detach() * len(idx)
            correct += ((logits > 0).float() == y).sum()
        sync()
        train_seconds = time.perf_counter() - start
        model.eval()
        test_correct = torch.zeros((), device=device, dtype=torch.long)
        with torch.no_grad():
            for b in range(0, len(test_y), bs):
                logits = model(test_x[b:b + bs])
                test_correct += ((logits > 0).float() == test_y[b:b + bs]).sum()
        record = epoch_record(epoch, start, train_seconds, loss_sum.item(), correct.item(), n,
                              test_correct.item(), len(test_y))
        epochs.append(record)
    return epochs


def epoch_record(epoch, start, train_seconds, loss_sum, correct, seen, test_correct, test_seen):
    epoch_seconds = time.perf_counter() - start
    record = {
        "epoch": epoch,
        "train_seconds": train_seconds,
        "eval_seconds": epoch_seconds - train_seconds,
        "epoch_seconds": epoch_seconds,
        "train_loss": loss_sum / max(seen, 1),
        "train_acc": correct / max(seen, 1),
        "test_acc": test_correct / max(test_seen, 1),
    }
    print(f"epoch {epoch}: {record}", file=sys.stderr)
    return record


if __name__ == "__main__":
    main()
