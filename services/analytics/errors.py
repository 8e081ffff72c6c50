"""Errors of the analytics service, answered in the {success:false, error} shape with a real status.

DomainError (services.platform.errors)
└── AnalyticsError
    ├── QueryRefused      400  the custom SQL is not one read-only SELECT over the lake views
    ├── LakeUnavailable   503  the engine or the lake storage failed (retry later)
    └── QueryTimeout      504  the query ran past the time limit and was interrupted
"""

from services.platform.errors import DomainError, Unavailable


class AnalyticsError(DomainError):
    pass


class QueryRefused(AnalyticsError):
    status_code = 400


class LakeUnavailable(AnalyticsError, Unavailable):  # Unavailable: the platform adds Retry-After
    status_code = 503


class QueryTimeout(AnalyticsError):
    status_code = 504
