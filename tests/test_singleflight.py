"""The shared run: every waiter gets the outcome, whatever it is, and nothing is left behind.

Each test starts several waiters at once and bounds the whole wait, so a waiter left hanging
fails the test instead of hanging it.
"""

import asyncio

import pytest

from spark_fed.singleflight import RunAbandoned, SingleFlight

WAITERS = 8
BOUND = 5.0


class Gate:
    """A piece of work that counts its runs and ends only when the test says how."""

    def __init__(self) -> None:
        self.runs = 0
        self.started = asyncio.Event()
        self._outcome: asyncio.Future[object] = asyncio.get_running_loop().create_future()

    async def work(self) -> object:
        self.runs += 1
        self.started.set()
        return await self._outcome

    def succeed(self, value: object) -> None:
        self._outcome.set_result(value)

    def fail(self, exc: BaseException) -> None:
        self._outcome.set_exception(exc)


async def _waiters(flight: SingleFlight, gate: Gate, key: str = "k") -> list[asyncio.Task]:
    tasks = [asyncio.create_task(flight.run(key, gate.work)) for _ in range(WAITERS)]
    await asyncio.wait_for(gate.started.wait(), BOUND)
    return tasks


async def _outcomes(tasks: list[asyncio.Task]) -> list[object]:
    async with asyncio.timeout(BOUND):
        return await asyncio.gather(*tasks, return_exceptions=True)


async def test_every_waiter_gets_the_one_result_and_the_next_call_runs_again() -> None:
    flight: SingleFlight[str, object] = SingleFlight(timeout=BOUND)
    gate = Gate()
    tasks = await _waiters(flight, gate)
    assert len(flight) == 1
    gate.succeed("value")
    assert await _outcomes(tasks) == ["value"] * WAITERS
    assert gate.runs == 1 and len(flight) == 0
    again = Gate()
    again.succeed("fresh")
    assert await flight.run("k", again.work) == "fresh" and again.runs == 1


async def test_every_waiter_gets_the_exception() -> None:
    flight: SingleFlight[str, object] = SingleFlight(timeout=BOUND)
    gate = Gate()
    tasks = await _waiters(flight, gate)
    gate.fail(LookupError("gone"))
    outcomes = await _outcomes(tasks)
    assert all(isinstance(outcome, LookupError) for outcome in outcomes) and len(flight) == 0


async def test_a_base_exception_of_the_run_reaches_every_waiter() -> None:
    class Fatal(BaseException):
        pass

    flight: SingleFlight[str, object] = SingleFlight(timeout=BOUND)
    gate = Gate()
    tasks = await _waiters(flight, gate)
    gate.fail(Fatal())
    outcomes = await _outcomes(tasks)
    assert all(isinstance(outcome, Fatal) for outcome in outcomes) and len(flight) == 0


async def test_the_first_waiter_cancelled_leaves_the_others_their_result() -> None:
    flight: SingleFlight[str, object] = SingleFlight(timeout=BOUND)
    gate = Gate()
    first, *others = await _waiters(flight, gate)
    first.cancel()
    await asyncio.wait_for(asyncio.wait([first]), BOUND)
    assert first.cancelled() and len(flight) == 1
    gate.succeed("value")
    assert await _outcomes(others) == ["value"] * (WAITERS - 1)


async def test_a_run_everyone_left_still_ends_and_is_forgotten() -> None:
    flight: SingleFlight[str, object] = SingleFlight(timeout=BOUND)
    gate = Gate()
    tasks = await _waiters(flight, gate)
    for task in tasks:
        task.cancel()
    await _outcomes(tasks)
    assert all(task.cancelled() for task in tasks)
    gate.fail(LookupError("nobody is listening"))  # no "exception never retrieved" either
    async with asyncio.timeout(BOUND):
        while len(flight):
            await asyncio.sleep(0)


async def test_a_run_past_its_bound_ends_with_timeout_for_everyone() -> None:
    flight: SingleFlight[str, object] = SingleFlight(timeout=0.2)
    gate = Gate()  # never ends by itself
    tasks = await _waiters(flight, gate)
    outcomes = await _outcomes(tasks)
    assert all(isinstance(outcome, TimeoutError) for outcome in outcomes) and len(flight) == 0
    again = Gate()
    again.succeed("fresh")
    assert await flight.run("k", again.work) == "fresh"


async def test_a_run_cancelled_from_outside_is_reported_not_passed_on_as_cancellation() -> None:
    flight: SingleFlight[str, object] = SingleFlight(timeout=BOUND)
    gate = Gate()
    tasks = await _waiters(flight, gate)
    gate.fail(asyncio.CancelledError())
    outcomes = await _outcomes(tasks)
    assert all(isinstance(outcome, RunAbandoned) for outcome in outcomes) and len(flight) == 0


async def test_keys_run_apart() -> None:
    flight: SingleFlight[str, object] = SingleFlight(timeout=BOUND)
    one, two = Gate(), Gate()
    first = asyncio.create_task(flight.run("one", one.work))
    second = asyncio.create_task(flight.run("two", two.work))
    await asyncio.wait_for(asyncio.gather(one.started.wait(), two.started.wait()), BOUND)
    two.succeed(2)
    one.fail(ValueError("one failed"))
    outcomes = await _outcomes([first, second])
    assert isinstance(outcomes[0], ValueError) and outcomes[1] == 2


@pytest.mark.parametrize("waiters", [1, 50])
async def test_the_work_runs_once_however_many_wait(waiters: int) -> None:
    flight: SingleFlight[str, int] = SingleFlight(timeout=BOUND)
    runs = 0

    async def work() -> int:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0)
        return runs

    async with asyncio.timeout(BOUND):
        results = await asyncio.gather(*(flight.run("k", work) for _ in range(waiters)))
    assert results == [1] * waiters and runs == 1
