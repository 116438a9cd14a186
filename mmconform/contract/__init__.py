"""The contract: the only code that reads ``spec/``, and the one model of an operation.

``spec/openapi.yaml`` describes what a correct Mattermost server answers for the 39 system
operations, with ``x-mm-*`` annotations on every operation; ``spec/errata.yaml`` lists where the
seed description and real servers disagree and what the suite does about it. Both formats are
documented in ``spec/README.md``. This package loads and checks them, then answers questions::

    from mmconform.contract import load_contract
    contract = load_contract()
    contract.operation("GetPing").auth            # 'none'
    contract.roles_granted("GetAudits")           # frozenset({'system_admin', ...})
    contract.response_schema("GetServerBusyExpires", 200)

Spec directory lookup: ``MMCONFORM_SPEC_DIR``, else ``<repo>/spec`` next to the package, else
``mmconform/_spec`` (wheel installs). Malformed input raises :class:`ContractError` naming the
file, the operation (or erratum) and the field.

Modules: ``_vocabulary`` (the closed lists), ``_model`` (the data), ``_yaml`` (YAML reading,
version and status-key parsing), ``_load`` (reading and checking the operations), ``_errata``
(reading and checking the errata), ``_requirements`` (the requirements catalogue), ``_roles``
(which roles a target can hold: the license rule of role assignment),
``_contract`` (the queries), ``_matrix`` (the permission matrix computed from the annotations).
"""

from mmconform._version import Version
from mmconform.contract._claims import SUPPORTED_VERSIONS
from mmconform.contract._contract import Contract, load_contract, reset_contract_cache, spec_hashes
from mmconform.contract._load import default_spec_dir
from mmconform.contract._matrix import (
    ACCESS_KINDS,
    ALLOWED,
    CATCH_ALL_ERROR,
    DENIED,
    EITHER,
    LOCAL_ORIGIN_ERROR,
    MATRIX_COLUMNS,
    NO_LICENSE_ERROR,
    NOT_SERVED,
    PERMISSION_ERROR_ID,
    REFUSED,
    SESSION_ERROR_ID,
    UNAUTHENTICATED,
    CellExpectation,
    MatrixConditions,
    expected_cell,
    permission_matrix,
)
from mmconform.contract._model import (
    BODY_CURRENT,
    BODY_JSON,
    BODY_MULTIPART,
    BODY_NONE,
    BODY_TEXT,
    ConfigGate,
    ContractEffects,
    EditionGate,
    Erratum,
    Expectation,
    Operation,
    RequestExample,
    VersionRule,
)
from mmconform.contract._requirements import (
    EDITIONS,
    FEATURES,
    Requirement,
    render_requirements,
)
from mmconform.contract._roles import RoleLicenseRule
from mmconform.contract._vocabulary import (
    ALL_OPERATIONS,
    ANONYMOUS,
    API_PREFIX,
    AUTH_VALUES,
    CHECK_NAMES,
    CONFIG_MASK,
    DECISIONS,
    DENIED_CELL_POLICIES,
    EDITION_VALUES,
    ERRATA_TOPICS,
    GLOBAL_STATE_VALUES,
    GROUP_TOKENS,
    LICENSE_VALUES,
    LOCAL,
    OPERATION_ANNOTATIONS,
    PERMISSIONS,
    ROLES,
    SECRETS_MASKED_WHEN_SET,
    ContractError,
    setting_patch,
    setting_value,
)

__all__ = [
    "ACCESS_KINDS",
    "ALLOWED",
    "ALL_OPERATIONS",
    "ANONYMOUS",
    "API_PREFIX",
    "AUTH_VALUES",
    "BODY_CURRENT",
    "BODY_JSON",
    "BODY_MULTIPART",
    "BODY_NONE",
    "BODY_TEXT",
    "CATCH_ALL_ERROR",
    "CHECK_NAMES",
    "CONFIG_MASK",
    "DECISIONS",
    "DENIED",
    "DENIED_CELL_POLICIES",
    "EDITIONS",
    "EDITION_VALUES",
    "EITHER",
    "ERRATA_TOPICS",
    "FEATURES",
    "GLOBAL_STATE_VALUES",
    "GROUP_TOKENS",
    "LICENSE_VALUES",
    "LOCAL",
    "LOCAL_ORIGIN_ERROR",
    "MATRIX_COLUMNS",
    "NOT_SERVED",
    "NO_LICENSE_ERROR",
    "OPERATION_ANNOTATIONS",
    "PERMISSIONS",
    "PERMISSION_ERROR_ID",
    "REFUSED",
    "ROLES",
    "SECRETS_MASKED_WHEN_SET",
    "SESSION_ERROR_ID",
    "SUPPORTED_VERSIONS",
    "UNAUTHENTICATED",
    "CellExpectation",
    "ConfigGate",
    "Contract",
    "ContractEffects",
    "ContractError",
    "EditionGate",
    "Erratum",
    "Expectation",
    "MatrixConditions",
    "Operation",
    "RequestExample",
    "Requirement",
    "RoleLicenseRule",
    "Version",
    "VersionRule",
    "default_spec_dir",
    "expected_cell",
    "load_contract",
    "permission_matrix",
    "render_requirements",
    "reset_contract_cache",
    "setting_patch",
    "setting_value",
    "spec_hashes",
]
