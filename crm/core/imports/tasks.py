from celery import shared_task

from crm.core.imports import engine, services


@shared_task(name="crm.core.imports.tasks.import_run_process", acks_late=True)
def import_run_process(run_id: int, write: bool) -> str:
    """A large file's dry run or commit, in the background, with its progress on the run."""
    run = services.import_run_execute(run_id=run_id, write=write, progress=engine.progress_writer(run_id))
    return run.state
