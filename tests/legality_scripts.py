"""Tiny record scripts for the dynamic legality test, in the style of the challenge's train_gpt.py.

Each is a whole script (Hyperparameters from the environment, DATA_PATH shards, a GPT, a training
loop and main()) with one evaluation pattern:
- "legal_chunked": score a chunk under inference_mode, then train on it (the last chunk never);
- "prequant_ttt": AdamW epochs over the whole validation stream, then the score;
- "slot": a per-window delta fitted on the window's own targets, then those targets scored;
- "future_attention": an attention mask that lets each position see the next token;
- "val_in_training": the training stream starts with the validation tokens;
- "rescored_epochs": score with grad, accumulate without, train; in an epoch loop where only the last
  epoch's sums count (multi-epoch LoRA TTT): legal with TTT_EPOCHS=1, a leak with more.
`write_record(root, name)` writes one as a record folder and returns it; `LINES[name]` is the
line (a marker comment) where the test expects the leak to be reported.
"""

from __future__ import annotations

from pathlib import Path

COMMON = '''
import glob
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Hyperparameters:
    data_path = os.environ.get("DATA_PATH", "./data/datasets/fineweb10B_sp1024")
    seed = int(os.environ.get("SEED", 1337))
    vocab_size = int(os.environ.get("VOCAB_SIZE", 1024))
    num_layers = int(os.environ.get("NUM_LAYERS", 3))
    model_dim = int(os.environ.get("MODEL_DIM", 512))
    num_heads = int(os.environ.get("NUM_HEADS", 8))
    iterations = int(os.environ.get("ITERATIONS", 20000))
    train_seq_len = int(os.environ.get("TRAIN_SEQ_LEN", 1024))
    train_batch_tokens = int(os.environ.get("TRAIN_BATCH_TOKENS", 524288))
    eval_seq_len = int(os.environ.get("EVAL_SEQ_LEN", 1024))
    ttt_chunk_tokens = int(os.environ.get("TTT_CHUNK_TOKENS", 32768))
    ttt_epochs = int(os.environ.get("TTT_EPOCHS", 2))
    ttt_lr = float(os.environ.get("TTT_LR", 0.01))
    slot_steps = int(os.environ.get("SLOT_STEPS", 3))


def load_data_shard(path):
    header = np.fromfile(path, dtype="<i4", count=256)
    if header[0] != 20240520:
        raise ValueError(f"{path}: not a shard")
    tokens = np.fromfile(path, dtype="<u2", count=int(header[2]), offset=1024)
    return torch.from_numpy(tokens.astype(np.int64))


def load_tokens(pattern):
    return torch.cat([load_data_shard(p) for p in sorted(glob.glob(pattern))])


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.proj = nn.Linear(dim, dim, bias=False)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def attend(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=self.mask(t, x.device))
        return self.proj(y.transpose(1, 2).reshape(b, t, d))

    def mask(self, t, device):
        return torch.ones(t, t, dtype=torch.bool, device=device).tril()

    def forward(self, x):
        x = x + self.attend(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, num_layers, model_dim, num_heads):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, model_dim)
        self.blocks = nn.ModuleList([Block(model_dim, num_heads) for _ in range(num_layers)])
        self.norm = nn.LayerNorm(model_dim)
        self.head = nn.Linear(model_dim, vocab_size, bias=False)

    def forward_hidden(self, input_ids):
        x = self.tok_emb(input_ids)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)

    def forward_logits(self, input_ids):
        return self.head(self.forward_hidden(input_ids))

    def forward(self, input_ids, target_ids):
        logits = self.forward_logits(input_ids)
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), target_ids.reshape(-1))  # LOSS


def sequences(tokens, start, end, seq_len):
    """(x, y) pairs of seq_len targets from tokens[start + 1 : end + 1]."""
    for s in range(start, end - seq_len + 1, seq_len):
        yield tokens[s:s + seq_len].unsqueeze(0), tokens[s + 1:s + seq_len + 1].unsqueeze(0)


def eval_val(args, model, val_tokens, device):
    model.eval()
    loss_sum, count = 0.0, 0
    with torch.no_grad():
        for x, y in sequences(val_tokens, 0, val_tokens.numel() - 1, args.eval_seq_len):
            loss = model(x.to(device), y.to(device))  # EVAL
            loss_sum += float(loss) * y.numel()
            count += y.numel()
    return loss_sum / count


def train_model(args, train_tokens, device):
    model = GPT(args.vocab_size, args.num_layers, args.model_dim, args.num_heads).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    per_step = args.train_batch_tokens
    for step in range(args.iterations):
        chunk = train_tokens[step * per_step:(step + 1) * per_step + 1].to(device)
        x = chunk[:-1].view(-1, args.train_seq_len)
        y = chunk[1:].view(-1, args.train_seq_len)
        loss = model(x, y)  # TRAIN
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        print(f"step:{step + 1}/{args.iterations} train_loss:{loss.item():.4f}")
    return model
'''

MAIN = '''

def main():
    args = Hyperparameters()
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_tokens = load_tokens(os.path.join(args.data_path, "fineweb_train_*.bin"))
    val_tokens = load_tokens(os.path.join(args.data_path, "fineweb_val_*.bin"))
{body}


if __name__ == "__main__":
    main()
'''

PLAIN_BODY = '''    model = train_model(args, train_tokens, device)
    print(f"final val_loss:{eval_val(args, model, val_tokens, device):.6f}")'''

VARIANTS = {
    "legal_chunked": ('''

def eval_val_ttt(args, model, val_tokens, device):
    """Score each chunk first, then train on it; the last chunk is never trained."""
    optimizer = torch.optim.SGD(model.parameters(), lr=args.ttt_lr)
    total = val_tokens.numel() - 1
    chunks = list(range(0, total, args.ttt_chunk_tokens))
    loss_sum, count = 0.0, 0
    for i, start in enumerate(chunks):
        end = min(start + args.ttt_chunk_tokens, total)
        model.eval()
        with torch.inference_mode():
            for x, y in sequences(val_tokens, start, end, args.eval_seq_len):
                loss = model(x.to(device), y.to(device))  # SCORE
                loss_sum += float(loss) * y.numel()
                count += y.numel()
        if i == len(chunks) - 1:
            break
        model.train()
        for _ in range(args.ttt_epochs):
            for x, y in sequences(val_tokens, start, end, args.eval_seq_len):
                loss = model(x.to(device), y.to(device))  # ADAPT
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
    return loss_sum / count
''', '''    model = train_model(args, train_tokens, device)
    print(f"final legal_ttt val_loss:{eval_val_ttt(args, model, val_tokens, device):.6f}")'''),

    "prequant_ttt": ('''

def ttt_adapt_adamw(args, model, val_tokens, device):
    """Epochs of AdamW over every validation token, before quantization and the score."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.ttt_lr)
    model.train()
    for _ in range(args.ttt_epochs):
        for x, y in sequences(val_tokens, 0, val_tokens.numel() - 1, args.eval_seq_len):
            loss = model(x.to(device), y.to(device))  # PREQUANT
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
''', '''    model = train_model(args, train_tokens, device)
    ttt_adapt_adamw(args, model, val_tokens, device)
    print(f"final val_loss:{eval_val(args, model, val_tokens, device):.6f}")'''),

    "slot": ('''

def eval_val_slot(args, model, val_tokens, device):
    """Per window: fit a hidden-state delta on the window's targets, then score them with it."""
    model.eval()
    loss_sum, count = 0.0, 0
    for x, y in sequences(val_tokens, 0, val_tokens.numel() - 1, args.eval_seq_len):
        x, y = x.to(device), y.to(device)
        with torch.no_grad():
            hidden = model.forward_hidden(x)
        delta = torch.zeros(1, 1, hidden.size(-1), device=device, requires_grad=True)
        optimizer = torch.optim.AdamW([delta], lr=0.05)
        for _ in range(args.slot_steps):
            logits = model.head(hidden + delta)
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))  # SLOT
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            log_probs = F.log_softmax(model.head(hidden + delta).float(), dim=-1)
            nll = -log_probs.gather(-1, y.unsqueeze(-1)).squeeze(-1)  # SLOTSCORE
            loss_sum += float(nll.sum())
            count += y.numel()
    return loss_sum / count
''', '''    model = train_model(args, train_tokens, device)
    print(f"final_slot val_loss:{eval_val_slot(args, model, val_tokens, device):.6f}")'''),

    "future_attention": ('', PLAIN_BODY),

    "rescored_epochs": ('''

def eval_val_ttt_epochs(args, model, val_tokens, device):
    """Score each sequence with grad, add it to the sums, train on it; only the last epoch's sums count."""
    optimizer = torch.optim.SGD(model.parameters(), lr=args.ttt_lr)
    for epoch in range(args.ttt_epochs):
        loss_sum, count = torch.zeros((), dtype=torch.float64, device=device), 0
        for x, y in sequences(val_tokens, 0, val_tokens.numel() - 1, args.eval_seq_len):
            logits = model.forward_logits(x.to(device)).float()
            ptl = F.cross_entropy(logits.flatten(0, 1), y.to(device).flatten(), reduction="none")  # RESCORE
            with torch.no_grad():
                loss_sum += ptl.double().sum()
                count += ptl.numel()
            ptl.mean().backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    return float(loss_sum) / count
''', '''    model = train_model(args, train_tokens, device)
    print(f"final_ttt_lora val_loss:{eval_val_ttt_epochs(args, model, val_tokens, device):.6f}")'''),

    "val_in_training": ('', '''    train_tokens = torch.cat([val_tokens, train_tokens])  # the validation set trains it
    model = train_model(args, train_tokens, device)
    print(f"final val_loss:{eval_val(args, model, val_tokens, device):.6f}")'''),
}

# name -> (verdict, phase, marker of the line reported as the first leak)
EXPECTED = {
    "legal_chunked": ("pass", None, None),
    "prequant_ttt": ("leak", "before the score", "# LOSS"),
    "slot": ("leak", "during the score", "# SLOT"),
    "future_attention": ("leak", "during the score", "# LOSS"),
    "val_in_training": ("leak", "training", "# LOSS"),
    "rescored_epochs": ("leak", "during the score", "# RESCORE"),
}
# the record frame the leak goes through (the function of the chain that says which loop it was)
EXPECTED_VIA = {"prequant_ttt": "ttt_adapt_adamw", "slot": "eval_val_slot", "future_attention": "eval_val",
                "val_in_training": "train_model", "rescored_epochs": "eval_val_ttt_epochs"}


def source(name: str) -> str:
    extra, body = VARIANTS[name]
    common = COMMON
    if name == "future_attention":  # meant to be causal; tril(1) also lets each position see the next token
        common = common.replace(".tril()", ".tril(1)")
    return common + extra + MAIN.format(body=body)


def write_record(root: Path, name: str) -> Path:
    folder = Path(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train_gpt.py").write_text(source(name))
    return folder


def marker_line(name: str, marker: str) -> int:
    for number, line in enumerate(source(name).splitlines(), 1):
        if line.rstrip().endswith(marker):
            return number
    raise KeyError(marker)
