"""The database-free master batch record core: model, validation, file formats, flow, dry run,
diff. Other layers import from here (see docs/mbr-format.md, "Python API"); nothing in this
package imports Django."""

from galenic.recipes.document.diff import Change, DocumentDiff, diff
from galenic.recipes.document.dryrun import DryRun, dry_run
from galenic.recipes.document.flow import (
    Calculation,
    Flow,
    FlowError,
    FlowEvent,
    FlowState,
    IncompleteStep,
    MaterialTarget,
    OutOfTurn,
    StepRun,
    StepState,
    StepStatus,
)
from galenic.recipes.document.io import (
    DocumentFormatError,
    canonical_json,
    content_hash,
    dump_json,
    dump_yaml,
    load,
    load_json,
    load_yaml,
    to_data,
)
from galenic.recipes.document.model import FORMAT, MasterBatchRecord, Parameter, Step
from galenic.recipes.document.validate import (
    RULES,
    DocumentInvalid,
    Problem,
    parse,
    require_valid,
    validate,
)

__all__ = [
    "FORMAT",
    "RULES",
    "Calculation",
    "Change",
    "DocumentDiff",
    "DocumentFormatError",
    "DocumentInvalid",
    "DryRun",
    "Flow",
    "FlowError",
    "FlowEvent",
    "FlowState",
    "IncompleteStep",
    "MasterBatchRecord",
    "MaterialTarget",
    "OutOfTurn",
    "Parameter",
    "Problem",
    "Step",
    "StepRun",
    "StepState",
    "StepStatus",
    "canonical_json",
    "content_hash",
    "diff",
    "dry_run",
    "dump_json",
    "dump_yaml",
    "load",
    "load_json",
    "load_yaml",
    "parse",
    "require_valid",
    "to_data",
    "validate",
]
