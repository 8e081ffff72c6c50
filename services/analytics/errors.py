"""Errors of the analytics service, answered in the {success:false, error} shape with a real status.

DomainError (services.platform.errors)
└── AnalyticsError
    ├── QueryRefused        400  the custom SQL is not one read-only SELECT over the lake views (generators,
    │   │                        recursive CTEs and unbounded repeat/pad included)
    │   └── QueryTooLarge   422  the custom query needed more memory than it may use, or its first row alone
    │                            is over the answer's byte limit
    ├── QueryInterrupted    408  the custom query ran past its time limit and was interrupted
    ├── TooManyQueries      429  the custom-query slots are all busy (Retry-After says when to try again)
    ├── LakeUnavailable     503  the engine or the lake storage failed (retry later)
    └── QueryTimeout        504  one of our own queries ran past the time limit and was interrupted
"""

from services.platform.errors import DomainError, Unavailable


class AnalyticsError(DomainError):
    """Every refusal analytics itself decides (the platform turns each into its problem+json answer)."""


class QueryRefused(AnalyticsError):
    status_code = 400


class QueryTooLarge(QueryRefused):
    status_code = 422


class QueryInterrupted(AnalyticsError):
    status_code = 408


class TooManyQueries(AnalyticsError):
    status_code = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class LakeUnavailable(AnalyticsError, Unavailable):  # Unavailable: the platform adds Retry-After
    status_code = 503


class QueryTimeout(AnalyticsError):
    status_code = 504
