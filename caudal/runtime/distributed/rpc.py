"""The transport between tasks: TF's WorkerService messages over grpcio, and in-process calls.

Every `tf.train.Server` serves `WorkerService` (caudal/proto/worker_service.proto) with grpcio's
generic handlers under `/caudal.proto.WorkerService/<Method>`; message sizes are unlimited (a
tensor of any size crosses in one message), and an error raised by the service travels as its
gRPC status code, which is TF's error code, with the message (RunGraph puts it in the response
body, as TF does, so a long message is not cut).

`worker_client(address)` gives the client of a task: a `GrpcWorkerClient` (one channel per
address per process), or, when a server of this process listens there, a `LocalWorkerClient`
that calls the service directly with NumPy arrays, no serialization, as TF's in-process master
and worker do. Both have the same methods; errors are `tf.errors.OpError`s, and a task that
cannot be reached is an UnavailableError naming its address.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import grpc
import numpy as np

from caudal import errors
from caudal.proto import tensorflow_server_pb2, worker_pb2
from caudal.runtime.distributed import tensor_coding
from caudal.runtime.distributed.tensor_coding import tensor_from_proto, tensor_to_proto

__all__ = ["SERVICE", "CHANNEL_OPTIONS", "serve", "worker_client", "register_local", "unregister_local",
           "tensor_to_proto", "tensor_from_proto"]

SERVICE = "caudal.proto.WorkerService"
# Unlimited message sizes; reconnect quickly to a task that restarts.
CHANNEL_OPTIONS = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1),
                   ("grpc.initial_reconnect_backoff_ms", 100), ("grpc.min_reconnect_backoff_ms", 100),
                   ("grpc.max_reconnect_backoff_ms", 1000)]
SERVER_OPTIONS = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1),
                  ("grpc.so_reuseport", 0)]
_SERVICE_ERROR = "caudal-error"  # trailing metadata: the status comes from the service, not the transport

# name -> (request class, response class); RecvTensor and RecvTensors answer with bytes their
# service methods wrote (tensor_coding), which their clients read back the same way.
_METHODS = {
    "GetStatus": (worker_pb2.GetStatusRequest, worker_pb2.GetStatusResponse),
    "CreateWorkerSession": (worker_pb2.CreateWorkerSessionRequest, worker_pb2.CreateWorkerSessionResponse),
    "DeleteWorkerSession": (worker_pb2.DeleteWorkerSessionRequest, worker_pb2.DeleteWorkerSessionResponse),
    "RegisterGraph": (worker_pb2.RegisterGraphRequest, worker_pb2.RegisterGraphResponse),
    "DeregisterGraph": (worker_pb2.DeregisterGraphRequest, worker_pb2.DeregisterGraphResponse),
    "RunGraph": (worker_pb2.RunGraphRequest, worker_pb2.RunGraphResponse),
    "CleanupGraph": (worker_pb2.CleanupGraphRequest, worker_pb2.CleanupGraphResponse),
    "CleanupAll": (worker_pb2.CleanupAllRequest, worker_pb2.CleanupAllResponse),
    "RecvTensor": (worker_pb2.RecvTensorRequest, worker_pb2.RecvTensorResponse),
    "GetServerDef": (worker_pb2.GetStatusRequest, tensorflow_server_pb2.ServerDef),
    "RecvTensors": (worker_pb2.RecvTensorsRequest, worker_pb2.RecvTensorsResponse),
}
_STATUS_BY_CODE = {code.value[0]: code for code in grpc.StatusCode}


# ------------------------------------------------------------------ errors
def _op_error(code: int, message: str) -> errors.OpError:
    cls = errors._CODE_TO_CLASS.get(code, errors.UnknownError)
    return cls(None, None, message)


def _rpc_error(error: grpc.RpcError, address: str) -> errors.OpError:
    code = error.code()
    details = error.details() or ""
    from_service = any(key == _SERVICE_ERROR for key, _ in (error.trailing_metadata() or ()))
    if from_service:
        return _op_error(code.value[0], details)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return errors.UnavailableError(None, None, f"The task at {address} is unavailable: {details}")
    return _op_error(code.value[0], f"{details} (from the task at {address})")


# ------------------------------------------------------------------ serving
_CODED_RESPONSES = {"RecvTensor": tensor_coding.decode_recv_tensor_response,
                    "RecvTensors": tensor_coding.decode_recv_tensors_response,
                    "RunGraph": tensor_coding.decode_run_graph_response}
# Requests the client writes as bytes and the server reads with these.
_CODED_REQUESTS = {"RunGraph": tensor_coding.decode_run_graph_request}


def _handler(method: Callable[[Any], Any], read_request: Callable[[bytes], Any], response_cls: Any,
             coded: bool = False) -> grpc.RpcMethodHandler:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(request)
        except errors.OpError as e:
            context.set_trailing_metadata(((_SERVICE_ERROR, "1"),))
            context.abort(_STATUS_BY_CODE.get(e.error_code, grpc.StatusCode.UNKNOWN), e.message)
        except Exception as e:  # noqa: BLE001 - any other failure is the service's internal error
            context.set_trailing_metadata(((_SERVICE_ERROR, "1"),))
            context.abort(grpc.StatusCode.INTERNAL, f"{type(e).__name__}: {e}")

    return grpc.unary_unary_rpc_method_handler(handle, request_deserializer=read_request,
                                               response_serializer=None if coded else response_cls.SerializeToString)


class _ProtoService:
    """The WorkerService's methods on protos, over the service's methods on Python values."""

    def __init__(self, service: Any):
        self._service = service

    def GetStatus(self, request: Any) -> Any:  # noqa: N802 - gRPC method names
        return worker_pb2.GetStatusResponse(device_attributes=self._service.get_status())

    def GetServerDef(self, request: Any) -> Any:  # noqa: N802
        return self._service.server_def

    def CreateWorkerSession(self, request: Any) -> Any:  # noqa: N802
        self._service.create_worker_session(request.session_handle)
        return worker_pb2.CreateWorkerSessionResponse()

    def DeleteWorkerSession(self, request: Any) -> Any:  # noqa: N802
        self._service.delete_worker_session(request.session_handle)
        return worker_pb2.DeleteWorkerSessionResponse()

    def RegisterGraph(self, request: Any) -> Any:  # noqa: N802
        config = request.config_proto if request.HasField("config_proto") else None
        handle = self._service.register_graph(request.session_handle, request.graph_def, config)
        return worker_pb2.RegisterGraphResponse(graph_handle=handle)

    def DeregisterGraph(self, request: Any) -> Any:  # noqa: N802
        self._service.deregister_graph(request.session_handle, request.graph_handle)
        return worker_pb2.DeregisterGraphResponse()

    def RunGraph(self, request: tuple[Any, list[tuple[str, Any]]]) -> bytes:  # noqa: N802
        request, feeds = request  # tensor_coding.decode_run_graph_request
        try:
            values = self._service.run_graph(request.session_handle, request.graph_handle, request.step_id, feeds,
                                             list(request.recv_key))
        except errors.OpError as e:
            if not request.store_errors_in_response_body:
                raise
            return tensor_coding.encode_run_graph_response([], e.error_code, e.message)
        return tensor_coding.encode_run_graph_response(list(zip(request.recv_key, values)))

    def CleanupGraph(self, request: Any) -> Any:  # noqa: N802
        self._service.cleanup_graph(request.step_id)
        return worker_pb2.CleanupGraphResponse()

    def CleanupAll(self, request: Any) -> Any:  # noqa: N802
        self._service.cleanup_all(list(request.container))
        return worker_pb2.CleanupAllResponse()

    def RecvTensor(self, request: Any) -> bytes:  # noqa: N802
        value = self._service.recv_tensor(request.step_id, request.rendezvous_key)
        return tensor_coding.encode_recv_tensor_response(value)

    def RecvTensors(self, request: Any) -> bytes:  # noqa: N802
        return tensor_coding.encode_recv_tensors_response(
            [self._service.recv_tensor(request.step_id, key) for key in request.rendezvous_key])


def serve(service: Any, bind_address: str, max_workers: int = 128) -> tuple[grpc.Server, int]:
    """Starts serving `service` on `bind_address` ("host:port"); returns the server and the bound port.

    A port that cannot be bound (in use) is TF's UnknownError "Could not start gRPC server"."""
    from concurrent import futures

    proto_service = _ProtoService(service)
    handlers = {name: _handler(getattr(proto_service, name), _CODED_REQUESTS.get(name, request_cls.FromString),
                               response_cls, name in _CODED_RESPONSES)
                for name, (request_cls, response_cls) in _METHODS.items()}
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="caudal-worker"),
                         handlers=[grpc.method_handlers_generic_handler(SERVICE, handlers)],
                         options=SERVER_OPTIONS)
    try:
        port = server.add_insecure_port(bind_address)
    except RuntimeError:
        port = 0
    if not port:
        server.stop(None)
        raise errors.UnknownError(None, None, "Could not start gRPC server")
    return server, port


# ------------------------------------------------------------------ clients
class _CallThreads:
    """Daemon threads that make blocking gRPC calls whose callers wait for them later.

    grpcio's `future()` calls are driven by a thread per channel that exits when the channel's calls
    drain and starts again with the next call: once or twice per step and channel, about a fifth of
    a call's CPU time. These threads are kept and reused instead. A thread starts only when all are
    busy, so a call never queues behind another (calls of one step wait on each other's tensors);
    they are daemons, so a process never waits at exit for a call that cannot finish.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = 0
        self._work: queue.SimpleQueue = queue.SimpleQueue()

    def submit(self, call: Callable[[Any], Any], request: Any) -> Future:
        """A Future of `call(request)` (its result, or the grpc.RpcError it raised)."""
        future: Future = Future()
        with self._lock:
            start = not self._idle
            if not start:
                self._idle -= 1
        self._work.put((future, call, request))
        if start:
            threading.Thread(target=self._serve, name="caudal-rpc", daemon=True).start()
        return future

    def _serve(self) -> None:
        while True:
            future, call, request = self._work.get()
            try:
                result = call(request)
            except BaseException as e:  # noqa: BLE001 - handed to the waiting caller
                future.set_exception(e)
            else:
                future.set_result(result)
            del future, call, request
            with self._lock:
                self._idle += 1


_CALL_THREADS = _CallThreads()


class GrpcWorkerClient:
    """The WorkerService of a task in another process, over gRPC."""

    def __init__(self, address: str):
        self.address = address
        self._channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
        self._calls = {name: self._channel.unary_unary(f"/{SERVICE}/{name}",
                                                       request_serializer=None if name in _CODED_REQUESTS
                                                       else request_cls.SerializeToString,
                                                       response_deserializer=_CODED_RESPONSES.get(
                                                           name, response_cls.FromString))
                       for name, (request_cls, response_cls) in _METHODS.items()}

    def _call(self, name: str, request: Any, timeout: float | None = None, wait: bool = False) -> Any:
        try:
            return self._calls[name](request, timeout=timeout, wait_for_ready=wait or None)
        except grpc.RpcError as e:
            raise _rpc_error(e, self.address) from None

    def get_server_def(self, timeout: float | None = None) -> Any:
        return self._call("GetServerDef", worker_pb2.GetStatusRequest(), timeout, wait=True)

    def get_status(self, timeout: float | None = None) -> list[Any]:
        return list(self._call("GetStatus", worker_pb2.GetStatusRequest(), timeout, wait=True).device_attributes)

    def create_worker_session(self, handle: str, timeout: float | None = None) -> None:
        self._call("CreateWorkerSession", worker_pb2.CreateWorkerSessionRequest(session_handle=handle), timeout,
                   wait=True)

    def delete_worker_session(self, handle: str, timeout: float | None = None) -> None:
        self._call("DeleteWorkerSession", worker_pb2.DeleteWorkerSessionRequest(session_handle=handle), timeout)

    def register_graph(self, handle: str, graph_def: Any, config: Any, source: Any = None,
                       timeout: float | None = None) -> str:
        request = worker_pb2.RegisterGraphRequest(session_handle=handle, create_worker_session_called=True,
                                                  graph_def=graph_def)
        if config is not None:
            request.config_proto.CopyFrom(config)
        return self._call("RegisterGraph", request, timeout, wait=True).graph_handle

    def deregister_graph(self, handle: str, graph_handle: str, timeout: float | None = None) -> None:
        self._call("DeregisterGraph", worker_pb2.DeregisterGraphRequest(
            session_handle=handle, create_worker_session_called=True, graph_handle=graph_handle), timeout)

    def run_graph_async(self, handle: str, graph_handle: str, step_id: int, feeds: list[tuple[str, Any]],
                        fetches: list[str], on_failure: Callable[[], None], relayed: int = 0,
                        deferred: bool = False) -> Callable[[], list[Any]]:
        """Starts the run; returns a function that waits for it and gives the fetched values (the last
        `relayed` of them read-only, as received, for another partition to take as feeds).
        `on_failure()` is called as soon as the run fails. `deferred`: the call is made by the
        returned function, in its caller's thread (for a caller with nothing to do meanwhile)."""
        request = worker_pb2.RunGraphRequest(session_handle=handle, create_worker_session_called=True,
                                             graph_handle=graph_handle, step_id=step_id, recv_key=fetches,
                                             store_errors_in_response_body=True)
        data = tensor_coding.encode_run_graph_request(request, feeds)

        def answer(response: Any, values: list[Any]) -> list[Any]:
            if response.status_code:
                raise _op_error(response.status_code, response.status_error_message)
            return _owned_but(values, relayed)

        if deferred:
            def call_now() -> list[Any]:
                try:
                    response, values = self._calls["RunGraph"](data)
                except grpc.RpcError as e:
                    on_failure()
                    raise _rpc_error(e, self.address) from None
                if response.status_code:
                    on_failure()
                return answer(response, values)

            return call_now
        future = _CALL_THREADS.submit(self._calls["RunGraph"], data)

        def done(finished: Any) -> None:
            if finished.cancelled() or finished.exception() is not None or finished.result()[0].status_code:
                on_failure()

        future.add_done_callback(done)

        def result() -> list[Any]:
            try:
                response, values = future.result()
            except grpc.RpcError as e:
                raise _rpc_error(e, self.address) from None
            return answer(response, values)

        return result

    def recv_tensor(self, step_id: int, key: str) -> Any:
        return self.recv_tensor_async(step_id, key)()

    def recv_tensor_async(self, step_id: int, key: str) -> Callable[[], Any]:
        """Asks for the tensor now; returns a function that waits for it."""
        future = _CALL_THREADS.submit(self._calls["RecvTensor"],
                                      worker_pb2.RecvTensorRequest(step_id=step_id, rendezvous_key=key))

        def result() -> Any:
            try:
                return future.result()
            except grpc.RpcError as e:
                raise _rpc_error(e, self.address) from None

        return result

    def recv_tensors_async(self, step_id: int, keys: list[str]) -> list[Callable[[], Any]]:
        """Asks for the tensors of `keys` (a transfer group) in one call now; returns a function per
        key that waits for the answer and gives that key's tensor."""
        future = _CALL_THREADS.submit(self._calls["RecvTensors"],
                                      worker_pb2.RecvTensorsRequest(step_id=step_id, rendezvous_key=keys))

        def result(index: int) -> Any:
            try:
                return future.result()[index]
            except grpc.RpcError as e:
                raise _rpc_error(e, self.address) from None

        return [lambda index=index: result(index) for index in range(len(keys))]

    def cleanup_graph(self, step_id: int, timeout: float | None = None) -> None:
        self._call("CleanupGraph", worker_pb2.CleanupGraphRequest(step_id=step_id), timeout)

    def cleanup_all(self, containers: list[str], timeout: float | None = None) -> None:
        self._call("CleanupAll", worker_pb2.CleanupAllRequest(container=containers), timeout, wait=True)


class LocalWorkerClient:
    """The WorkerService of a server in this process, called directly."""

    def __init__(self, service: Any, address: str):
        self.address = address
        self._service = service

    def _live(self) -> Any:
        if self._service.stopped:
            raise errors.UnavailableError(None, None, f"The task at {self.address} is unavailable: its server "
                                                      "was stopped")
        return self._service

    def get_server_def(self, timeout: float | None = None) -> Any:
        return self._live().server_def

    def get_status(self, timeout: float | None = None) -> list[Any]:
        return self._live().get_status()

    def create_worker_session(self, handle: str, timeout: float | None = None) -> None:
        self._live().create_worker_session(handle)

    def delete_worker_session(self, handle: str, timeout: float | None = None) -> None:
        self._live().delete_worker_session(handle)

    def register_graph(self, handle: str, graph_def: Any, config: Any, source: Any = None,
                       timeout: float | None = None) -> str:
        """`source`, the client's Graph, lets the partition keep attrs a GraphDef cannot carry."""
        return self._live().register_graph(handle, graph_def, config, source)

    def deregister_graph(self, handle: str, graph_handle: str, timeout: float | None = None) -> None:
        self._live().deregister_graph(handle, graph_handle)

    def run_graph_async(self, handle: str, graph_handle: str, step_id: int, feeds: list[tuple[str, Any]],
                        fetches: list[str], on_failure: Callable[[], None], relayed: int = 0,
                        deferred: bool = True) -> Callable[[], list[Any]]:
        """The run happens when the returned function is called (in the caller's thread)."""
        service = self._live()

        def result() -> list[Any]:
            try:
                values = service.run_graph(handle, graph_handle, step_id, feeds, fetches)
            except BaseException:
                on_failure()
                raise
            return _owned_but(values, relayed)

        return result

    def recv_tensor(self, step_id: int, key: str) -> Any:
        return self._live().recv_tensor(step_id, key)

    def recv_tensor_async(self, step_id: int, key: str) -> Callable[[], Any]:
        """The sender runs in this process: the returned function waits on its rendezvous."""
        service = self._live()
        return lambda: service.recv_tensor(step_id, key)

    def recv_tensors_async(self, step_id: int, keys: list[str]) -> list[Callable[[], Any]]:
        """In this process each key is waited for on its own."""
        return [self.recv_tensor_async(step_id, key) for key in keys]

    def cleanup_graph(self, step_id: int, timeout: float | None = None) -> None:
        self._live().cleanup_graph(step_id)

    def cleanup_all(self, containers: list[str], timeout: float | None = None) -> None:
        self._live().cleanup_all(containers)


def _owned(value: Any) -> Any:
    """A fetched value the caller owns: arrays writable and not shared, 0-d arrays as NumPy scalars."""
    if type(value) is np.ndarray:
        if value.ndim == 0:
            return value[()]
        return value.copy()
    return value


def _owned_but(values: list[Any], relayed: int) -> list[Any]:
    """`values` owned by the caller, but for the last `relayed`, which go on to another partition."""
    kept = len(values) - relayed
    return [_owned(v) for v in values[:kept]] + list(values[kept:])


_lock = threading.Lock()
_local: dict[str, Any] = {}  # "host:port" -> the service of a server in this process
_channels: dict[str, GrpcWorkerClient] = {}
# Tests set this False to send in-process calls through gRPC too.
use_local_calls = True


def _local_names(address: str) -> list[str]:
    host, _, port = address.rpartition(":")
    names = [address]
    if host in ("localhost", "127.0.0.1", "0.0.0.0", "[::]", "[::1]", "::1", ""):
        names += [f"localhost:{port}", f"127.0.0.1:{port}"]
    return names


def register_local(address: str, service: Any) -> None:
    with _lock:
        for name in _local_names(address):
            _local[name] = service


def unregister_local(service: Any) -> None:
    with _lock:
        for name in [n for n, s in _local.items() if s is service]:
            del _local[name]


def worker_client(address: str) -> Any:
    """The client of the task at `address` ("host:port")."""
    with _lock:
        service = _local.get(address) if use_local_calls else None
        if service is not None:
            return LocalWorkerClient(service, address)
        client = _channels.get(address)
        if client is None:
            client = _channels[address] = GrpcWorkerClient(address)
        return client
