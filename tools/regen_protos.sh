#!/usr/bin/env bash
# Regenerates caudal/proto/*_pb2.py from caudal/proto/*.proto.
#
# The generated modules are committed. They are produced by protoc 3.21
# (grpcio-tools 1.51.x), whose output has no runtime-version gate and so
# imports under every protobuf runtime from 4.21 on. Use a throwaway venv:
#
#   python -m venv /tmp/protogen
#   /tmp/protogen/bin/pip install "grpcio-tools==1.51.3"
#   PYTHON=/tmp/protogen/bin/python tools/regen_protos.sh
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
INCLUDE="$("$PYTHON" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')"

rm -f caudal/proto/*_pb2.py
"$PYTHON" -m grpc_tools.protoc -I . -I "$INCLUDE" --python_out=. caudal/proto/*.proto
echo "regenerated: $(ls caudal/proto/*_pb2.py | wc -l) modules"
