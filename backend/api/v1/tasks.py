"""/api/v1/tasks: list, get, cancel."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from backend.api.deps import EditorRole, ServicesDep, ViewerRole
from backend.api.routing import collection
from backend.schemas.tasks import TaskInfo
from backend.services.tasks import ENDED

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])
CANCEL_WAIT_S = 10.0


@collection(router, "GET", response_model=list[TaskInfo])
def list_tasks(services: ServicesDep, _role: ViewerRole) -> list[TaskInfo]:
    return services.tasks.list()


@router.get("/{task_id}", response_model=TaskInfo)
def get_task(task_id: str, services: ServicesDep, _role: ViewerRole) -> TaskInfo:
    return services.tasks.get(task_id)


@router.post(
    "/{task_id}/cancel",
    response_model=TaskInfo,
    responses={409: {"description": "the task has already ended"}},
)
async def cancel_task(task_id: str, services: ServicesDep, _role: EditorRole) -> TaskInfo:
    """Cancel a task; a running fit's worker is stopped. Waits briefly for it to end."""
    await run_in_threadpool(services.tasks.request_cancel, task_id)
    services.runner.wake()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CANCEL_WAIT_S
    while True:
        task = await run_in_threadpool(services.tasks.get, task_id)
        if task.status in ENDED or loop.time() > deadline:
            return task
        await asyncio.sleep(0.1)
