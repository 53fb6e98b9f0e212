"""SAM templates: the ``AWS::Serverless::Function`` resources of a ``template.yaml``.

`read_template` reads a template (YAML through PyYAML, the ``yaml`` extra; a ``.json``
template needs nothing) and returns a `TemplateFunction` per Python function (a function
whose ``Runtime`` is another language's is left out): its `Function`
(``Handler`` in ``CodeUri``, ``Timeout``, ``MemorySize``, ``ReservedConcurrentExecutions``,
with ``Globals.Function`` applied), its ``EventInvokeConfig`` (retries, age and
``DestinationConfig`` targets), its ``LoggingConfig`` and its ``Events`` of type ``SQS``,
``Kinesis`` and ``DynamoDB`` as mapping configurations (batch settings, filters, failure
handling).  CloudFormation's short tags (``!Ref``, ``!GetAtt``, ``!Sub`` and the others)
are read as their long forms (``{"Ref": ...}``); a value the command line needs that is
an intrinsic function is resolved where it can be (``!Ref`` of a parameter with a
default, ``!GetAtt X.Arn`` / ``!Ref X`` of a resource: its logical id) and refused with
a one-line error naming the property where it cannot.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from invokemodels.aws._eventbridge import EventBus
from invokemodels.aws._sns import Topic
from invokemodels.aws._targets import QueueTarget
from invokemodels.core._function import Function
from invokemodels.core._logs import LoggingConfig
from invokemodels.event._policy import EventInvokeConfig
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._sqs import SQSMappingConfig
from invokemodels.mapping._stream_config import StreamMappingConfig

__all__ = ["TemplateEvent", "TemplateFunction", "read_template"]

_FUNCTION: Final = "AWS::Serverless::Function"
_LAMBDA: Final = "AWS::Lambda::Function"
_MAPPED: Final = ("SQS", "Kinesis", "DynamoDB")
# Every CloudFormation short-form tag and its long form (a tag's value becomes the value).
_TAGS: Final = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "And", "Base64", "Cidr", "Equals", "FindInMap", "GetAtt", "GetAZs", "If",
            "ImportValue", "Join", "Not", "Or", "Select", "Split", "Sub", "Transform",
            "ToJsonString", "Length",
        )
    },
}  # fmt: skip


@attrs.frozen
class TemplateEvent:
    """One ``Events`` entry of a function: an event source mapping the template declares.

    ``kind`` is ``SQS``, ``Kinesis`` or ``DynamoDB``; ``source`` the queue or stream (its
    logical id for a ``!Ref`` / ``!GetAtt``, else the ARN text); ``config`` the validated
    `SQSMappingConfig` or `StreamMappingConfig`.
    """

    name: str
    kind: str
    source: str
    config: Any


@attrs.frozen
class TemplateFunction:
    """An ``AWS::Serverless::Function`` of a template, ready to run."""

    logical_id: str
    function: Function
    event_config: EventInvokeConfig | None = None
    logging_config: LoggingConfig | None = None
    events: tuple[TemplateEvent, ...] = ()


def _load_yaml(text: str, path: str) -> Any:
    try:
        yaml: Any = importlib.import_module("yaml")
    except ImportError:
        raise InvalidParameterValueError(
            "--template",
            path,
            "a YAML template needs PyYAML: pip install 'invokemodels[yaml]' "
            "(or give the template as JSON)",
        ) from None

    class Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no types here
        """PyYAML's safe loader, with CloudFormation's short tags."""

    def construct(tag: str) -> Any:
        key = _TAGS[tag]

        def build(loader: Any, node: Any) -> Any:
            if isinstance(node, yaml.ScalarNode):
                value: Any = loader.construct_scalar(node)
                if tag == "GetAtt" and isinstance(value, str):
                    value = value.split(".", 1)
            elif isinstance(node, yaml.SequenceNode):
                value = loader.construct_sequence(node, deep=True)
            else:
                value = loader.construct_mapping(node, deep=True)
            return {key: value}

        return build

    for tag in _TAGS:
        Loader.add_constructor(f"!{tag}", construct(tag))
    try:
        return yaml.load(text, Loader=Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        msg = f"not valid YAML: {str(exc).splitlines()[0]}"
        raise InvalidParameterValueError("--template", path, msg) from None


def read_template(path: str) -> dict[str, TemplateFunction]:
    """Every function of the SAM template at ``path``, by logical id (in template order)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidParameterValueError(
            "--template", path, f"cannot read: {exc.strerror or exc}"
        ) from None
    except UnicodeDecodeError as exc:
        raise InvalidParameterValueError("--template", path, f"not UTF-8: {exc.reason}") from None
    if path.endswith(".json"):
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise InvalidParameterValueError("--template", path, f"not valid JSON: {exc}") from None
    else:
        document = _load_yaml(text, path)
    if not isinstance(document, Mapping) or not isinstance(document.get("Resources"), Mapping):
        raise InvalidParameterValueError("--template", path, "has no Resources section")
    return _Reader(document, Path(path).resolve().parent).functions()


@attrs.define
class _Reader:
    document: Mapping[str, Any]
    root: Path

    def functions(self) -> dict[str, TemplateFunction]:
        globals_ = self.document.get("Globals") or {}
        defaults = globals_.get("Function") or {} if isinstance(globals_, Mapping) else {}
        out: dict[str, TemplateFunction] = {}
        for logical_id, resource in self.document["Resources"].items():
            if not isinstance(resource, Mapping) or resource.get("Type") not in (
                _FUNCTION,
                _LAMBDA,
            ):
                continue
            properties = {**defaults, **(resource.get("Properties") or {})}
            runtime = properties.get("Runtime")
            if isinstance(runtime, str) and not runtime.startswith("python"):
                continue  # a Node.js, Java... function: not one this runtime can run
            out[str(logical_id)] = self._function(str(logical_id), properties)
        if not out:
            raise InvalidParameterValueError(
                "--template", str(self.root), f"declares no Python {_FUNCTION} resource"
            )
        return out

    # -- values ---------------------------------------------------------------------------

    def _value(self, where: str, value: Any) -> Any:
        """A property's value with the intrinsics the command line can resolve resolved."""
        if isinstance(value, Mapping) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(where, arg)
            if key == "Fn::GetAtt":
                names = arg.split(".", 1) if isinstance(arg, str) else list(arg)
                return str(names[0])
            if key == "Fn::Sub" and isinstance(arg, str) and "${" not in arg:
                return arg
            if key.startswith("Fn::") or key == "Condition":
                raise InvalidParameterValueError(
                    where, value, f"uses {key}, which the command line cannot resolve"
                )
        return value

    def _ref(self, where: str, name: Any) -> Any:
        parameters = self.document.get("Parameters") or {}
        if isinstance(parameters, Mapping) and name in parameters:
            parameter = parameters[name] or {}
            if "Default" in parameter:
                return parameter["Default"]
            raise InvalidParameterValueError(
                where, {"Ref": name}, "refers to a parameter without a Default"
            )
        if name in self.document["Resources"]:
            return str(name)  # a resource's logical id stands for it
        if isinstance(name, str) and name.startswith("AWS::"):
            pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}
            if name in pseudo:
                return pseudo[name]
        raise InvalidParameterValueError(where, {"Ref": name}, "refers to nothing in the template")

    def _number(self, where: str, value: Any) -> Any:
        value = self._value(where, value)
        if isinstance(value, str):
            try:
                return float(value) if "." in value else int(value)
            except ValueError:
                raise InvalidParameterValueError(where, value, "must be a number") from None
        return value

    # -- a function -----------------------------------------------------------------------

    def _function(self, logical_id: str, p: Mapping[str, Any]) -> TemplateFunction:
        def at(name: str) -> str:
            return f"{logical_id}.{name}"

        handler = self._value(at("Handler"), p.get("Handler"))
        if not isinstance(handler, str) or "." not in handler:
            raise InvalidParameterValueError(
                at("Handler"), handler, "must be 'module.function' (the Python runtime's form)"
            )
        module, attr = handler.rsplit(".", 1)
        code_uri = self._value(at("CodeUri"), p.get("CodeUri", "."))
        if not isinstance(code_uri, str):
            raise InvalidParameterValueError(at("CodeUri"), code_uri, "must be a local directory")
        base = self.root / code_uri
        file = base / (module.replace(".", "/") + ".py")
        if not file.is_file():
            file = base / module.replace(".", "/") / "__init__.py"
        name = self._value(at("FunctionName"), p.get("FunctionName", logical_id))
        kwargs: dict[str, Any] = {"name": name, "handler": f"{file}:{attr}"}
        for prop, arg in (
            ("Timeout", "timeout"),
            ("MemorySize", "memory_size"),
            ("ReservedConcurrentExecutions", "reserved_concurrency"),
        ):
            if prop in p:
                kwargs[arg] = self._number(at(prop), p[prop])
        function = Function(**kwargs)
        return TemplateFunction(
            logical_id,
            function,
            self._event_config(at("EventInvokeConfig"), p.get("EventInvokeConfig")),
            self._logging(at("LoggingConfig"), p.get("LoggingConfig")),
            self._events(at("Events"), p.get("Events") or {}),
        )

    def _event_config(self, where: str, value: Any) -> EventInvokeConfig | None:
        if value is None:
            return None
        kwargs: dict[str, Any] = {}
        if "MaximumRetryAttempts" in value:
            kwargs["maximum_retry_attempts"] = self._number(
                f"{where}.MaximumRetryAttempts", value["MaximumRetryAttempts"]
            )
        if "MaximumEventAgeInSeconds" in value:
            kwargs["maximum_event_age"] = self._number(
                f"{where}.MaximumEventAgeInSeconds", value["MaximumEventAgeInSeconds"]
            )
        destinations = value.get("DestinationConfig") or {}
        for key, arg in (("OnSuccess", "on_success"), ("OnFailure", "on_failure")):
            if key in destinations:
                kwargs[arg] = self._target(f"{where}.DestinationConfig.{key}", destinations[key])
        return EventInvokeConfig(**kwargs)

    def _target(self, where: str, value: Any) -> Any:
        kind = value.get("Type")
        destination = value.get("Destination")
        name = "destination" if destination is None else self._value(where, destination)
        name = str(name).rsplit(":", 1)[-1][:80] or "destination"
        if kind == "SQS":
            return QueueTarget(name=name)
        if kind == "SNS":
            return Topic(name=name)
        if kind == "EventBridge":
            return EventBus(name=name)
        raise InvalidParameterValueError(
            f"{where}.Type", kind, "must be SQS, SNS or EventBridge (the destinations modelled)"
        )

    def _logging(self, where: str, value: Any) -> LoggingConfig | None:
        if value is None:
            return None
        return LoggingConfig(
            log_format=self._value(f"{where}.LogFormat", value.get("LogFormat", "Text")),
            application_log_level=value.get("ApplicationLogLevel"),
            system_log_level=value.get("SystemLogLevel"),
        )

    def _events(self, where: str, events: Mapping[str, Any]) -> tuple[TemplateEvent, ...]:
        out = []
        for name, event in events.items():
            kind = event.get("Type") if isinstance(event, Mapping) else None
            if kind not in _MAPPED:
                continue  # API, Schedule, S3...: not an event source mapping
            at = f"{where}.{name}"
            p = event.get("Properties") or {}
            source_key = "Queue" if kind == "SQS" else "Stream"
            source = str(self._value(f"{at}.{source_key}", p.get(source_key, "")))
            common: dict[str, Any] = {}
            for prop, arg in (
                ("BatchSize", "batch_size"),
                ("MaximumBatchingWindowInSeconds", "maximum_batching_window"),
            ):
                if prop in p:
                    common[arg] = self._number(f"{at}.{prop}", p[prop])
            if "FilterCriteria" in p:
                common["filter_criteria"] = p["FilterCriteria"]
            if "FunctionResponseTypes" in p:
                common["function_response_types"] = tuple(p["FunctionResponseTypes"])
            if "Enabled" in p:
                common["enabled"] = p["Enabled"]
            config: Any
            if kind == "SQS":
                scaling = p.get("ScalingConfig") or {}
                if "MaximumConcurrency" in scaling:
                    common["maximum_concurrency"] = self._number(
                        f"{at}.ScalingConfig.MaximumConcurrency", scaling["MaximumConcurrency"]
                    )
                config = SQSMappingConfig(**common)
            else:
                for prop, arg in (
                    ("MaximumRetryAttempts", "maximum_retry_attempts"),
                    ("MaximumRecordAgeInSeconds", "maximum_record_age"),
                    ("ParallelizationFactor", "parallelization_factor"),
                    ("TumblingWindowInSeconds", "tumbling_window"),
                ):
                    if prop in p:
                        common[arg] = self._number(f"{at}.{prop}", p[prop])
                if "BisectBatchOnFunctionError" in p:
                    common["bisect_batch_on_function_error"] = p["BisectBatchOnFunctionError"]
                failure = (p.get("DestinationConfig") or {}).get("OnFailure")
                if failure is not None:
                    failure = {"Type": "SQS", **failure}
                    common["on_failure"] = self._target(
                        f"{at}.DestinationConfig.OnFailure", failure
                    )
                config = StreamMappingConfig(
                    starting_position=p.get("StartingPosition", "LATEST"), **common
                )
            out.append(TemplateEvent(str(name), kind, source, config))
        return tuple(out)
