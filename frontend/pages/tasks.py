"""Tasks: live table of fits with progress and stage, auto-refresh while any is active, cancel."""

from typing import Any

import streamlit as st

from frontend import auth
from frontend.client import ClientError
from frontend.task_rows import model_title, model_titles, status_text, tasks_frame
from frontend.ui import get_client, reported_errors, show_error


def is_active(task: dict[str, Any]) -> bool:
    """Queued or running, read from the API's own field: an ended task has `finished_at`."""
    return task.get("finished_at") is None


REFRESH_SECONDS = 2.0


def fetch_tasks() -> list[dict[str, Any]] | None:
    """All tasks, newest first, or None after showing the error."""
    try:
        return get_client().list_tasks()
    except ClientError as exc:
        show_error(exc)
        return None


def fetch_titles() -> dict[str, str]:
    """`name v<version>` per model id; ids alone if the models cannot be listed."""
    try:
        return model_titles(get_client().list_models())
    except ClientError:
        return {}


def render_tasks(was_active: bool) -> None:
    """The table, progress bars, cancel control and errors; reruns itself while tasks run."""
    tasks = fetch_tasks()
    if tasks is None:
        return
    titles = fetch_titles()
    active = [task for task in tasks if is_active(task)]
    if was_active and not active:
        # The fragment was started with a timer; a full rerun redraws it without one.
        st.rerun(scope="app")
    if not tasks:
        st.info("No tasks yet: start one on the **Train** page.")
        return

    for task in active:
        progress = min(max(float(task.get("progress") or 0), 0.0), 1.0)
        st.progress(
            progress,
            text=f"{status_text(task['status'])}: {task.get('kind')} of "
            f"{model_title(task.get('model_id'), titles)} · {task.get('stage') or task['status']}"
            f" · {progress:.0%}",
        )

    table = tasks_frame(tasks, titles)
    shown = [
        c
        for c in (
            "status",
            "model",
            "progress",
            "stage",
            "kind",
            "model_id",
            "created_at",
            "started_at",
            "finished_at",
            "error",
            "id",
        )
        if c in table.columns
    ]
    st.dataframe(
        table[shown],
        hide_index=True,
        column_config={
            "progress": st.column_config.ProgressColumn(
                "progress", min_value=0.0, max_value=1.0, format="percent"
            ),
            "error": st.column_config.TextColumn("error", width="medium"),
        },
        key="tasks_table",
    )

    if active:
        ids = [task["id"] for task in active]
        by_id = {task["id"]: task for task in active}
        columns = st.columns([3, 1])
        chosen = columns[0].selectbox(
            "Active task",
            ids,
            format_func=lambda task_id: (
                f"{model_title(by_id[task_id].get('model_id'), titles)} · {task_id}"
            ),
            key="tasks_cancel_choice",
        )
        with columns[1]:
            cancel = auth.action_button("Cancel task", auth.EDITOR, key="tasks_cancel")
        if cancel:
            with reported_errors():
                cancelled = get_client().cancel_task(chosen)
                st.success(f"Task {chosen} is now {cancelled.get('status')}.")

    failed = [task for task in tasks if not is_active(task) and task.get("error")]
    if failed:
        st.subheader("Errors")
        for task in failed[:20]:
            title = model_title(task.get("model_id"), titles)
            with st.expander(
                f"{status_text(task['status'])}: {task.get('kind')} {title} · {task['id']}"
            ):
                st.code(task["error"], language=None)
    for task in tasks:
        result = task.get("result") or {}
        if task.get("kind") == "retrain" and "decision" in result:
            metric = result.get("metric", "")
            challenger = (result.get("challenger") or {}).get("score")
            champion = (result.get("champion") or {}).get("score")
            with st.expander(
                f"Retrain {result.get('alias', '')}: **{result['decision']}** — challenger "
                f"{metric} {challenger:.4f} vs champion {champion:.4f} · {task['id']}"
                if isinstance(challenger, float) and isinstance(champion, float)
                else f"Retrain result: {result['decision']} · {task['id']}"
            ):
                st.json(result)


st.title("Tasks")
initial = fetch_tasks()
any_active = initial is not None and any(is_active(task) for task in initial)
st.caption(
    f"Refreshing every {REFRESH_SECONDS:.0f} s while a task is queued or running."
    if any_active
    else "No task is running."
)
if initial is not None:
    # run_every is fixed when the fragment is created, so it is decided per full run.
    st.fragment(render_tasks, run_every=REFRESH_SECONDS if any_active else None)(any_active)
if st.button("Refresh now", key="tasks_refresh"):
    st.rerun()
