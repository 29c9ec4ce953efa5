"""Roles (PRODUCT.md "Who uses it"). A person may hold several; never approve their own work."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OPERATOR = "operator", "Operator"
    VERIFIER = "verifier", "Verifier (second person)"
    SUPERVISOR = "supervisor", "Supervisor"
    PROCESS_ENGINEER = "process_engineer", "Process engineer"
    QA_REVIEWER = "qa_reviewer", "QA reviewer"
    QA_APPROVER = "qa_approver", "QA approver"
    ADMIN = "admin", "Admin"
    INSPECTOR = "inspector", "Inspector (read-only)"
