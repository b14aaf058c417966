"""Does this CPU pay for subnormal floats? Times libtorch kernels on subnormal against
normal operands, IEEE (torch.set_flush_denormal(False)) and flushed, one thread; prints a
markdown table. Intel cores take a microcode assist per subnormal operation (tens to
hundreds of cycles); some AMD cores handle them at full speed in vector code.

    python bench/subnormal.py      # after `source scripts/env.sh`
"""
import platform
import time

import torch

N = 1 << 22
REPEATS = 20


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(fn):
    fn()  # warm-up: allocation, first-touch
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(REPEATS):
            fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    torch.set_num_threads(1)
    normal = torch.full((N,), 1e-3)
    sub = torch.full((N,), 1e-39)  # below f32's smallest normal, 1.18e-38
    y = torch.full((N,), 0.5)
    a_sub, a_norm, b = torch.full((512, 512), 1e-39), torch.full((512, 512), 1e-3), torch.full((512, 512), 0.5)
    ops = {
        "x * y + x": lambda x: x * y + x,
        "sigmoid(x)": torch.sigmoid,
        "tanh(x)": torch.tanh,
        "x * 1e-36 (normal in, subnormal out)": None,
        "512x512 matmul": None,
    }
    print(f"CPU: {cpu_name()}; torch {torch.__version__}; 1 thread; best of 3 x {REPEATS} calls")
    print()
    print("| kernel | normal s | subnormal s, IEEE | subnormal s, flushed | IEEE / flushed |")
    print("|---|---:|---:|---:|---:|")
    for name, fn in ops.items():
        if name.startswith("x * 1e-36"):
            run_norm = lambda: normal * 1e-30  # stays normal (1e-33)
            run_sub = lambda: normal * 1e-36
        elif name.startswith("512x512"):
            run_norm = lambda: a_norm @ b
            run_sub = lambda: a_sub @ b
        else:
            run_norm = lambda fn=fn: fn(normal)
            run_sub = lambda fn=fn: fn(sub)
        torch.set_flush_denormal(False)
        t_norm = timed(run_norm)
        t_ieee = timed(run_sub)
        torch.set_flush_denormal(True)
        t_flush = timed(run_sub)
        torch.set_flush_denormal(False)
        print(f"| {name} | {t_norm:.3f} | {t_ieee:.3f} | {t_flush:.3f} | {t_ieee / t_flush:.2f}x |")


if __name__ == "__main__":
    main()
