"""Sessions and their compiled run plans.

Importing this package gives the framework its way to the default Session
(`Tensor.eval`, `Operation.run`, `reset_default_graph`): the framework sits
below the runtime and does not import it.
"""
from caudal.framework.default_session import register_default_session
from caudal.runtime.session import _run_with_default_session, get_default_session

register_default_session(_run_with_default_session, get_default_session)
