"""GloVe restricted to a run's vocabulary, in the same gensim/word2vec text format, so the
preset's GloVe fits the device tool's 64 MiB carry next to the IMDB archive.

    python3 bench/glove-subset.py ../shared/data/glove-wiki-gigaword-50.gz RUN_DIR/vocab.json .gpu/glove-50-vocab.gz

RUN_DIR: any run trained with the preset's vocabulary (`--vocab-size 30000`); the output
is a few MB and is never committed (it is a piece of the GloVe data)."""
import gzip
import json
import sys

src, vocab_path, dst = sys.argv[1:4]
words = set(json.load(open(vocab_path))["words"])
with gzip.open(src, "rt", encoding="utf-8") as f:
    dim = int(f.readline().split()[1])
    rows = [line for line in f if line.split(" ", 1)[0] in words]
with gzip.open(dst, "wt", encoding="utf-8") as out:
    out.write(f"{len(rows)} {dim}\n")
    out.writelines(rows)
print(f"{len(rows)} of {len(words)} vocabulary words, {dim} dimensions -> {dst}")
