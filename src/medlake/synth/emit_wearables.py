"""`wearables/` — a consumer fitness-device platform's export.

`devices.csv` (device, model, owner's user id, e-mail and name) and one `daily_<yyyy-mm>.csv`
per month with daily steps and resting heart rate for the last 120 days of the window
(days the device was not worn are missing).
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from medlake.synth.emit import RowFile
from medlake.synth.model import WEARABLES, PersonHistory
from medlake.synth.population import PERIOD_END
from medlake.synth.truth import TruthWriter

DAYS = 120
_DEV = ("DeviceID", "Model", "UserID", "UserEmail", "UserFirstName", "UserLastName", "RegisteredOn")
_DAILY = ("DeviceID", "UserID", "UserEmail", "Date", "Steps", "RestingHeartRate")


class WearablesEmitter:
    source = WEARABLES

    def __init__(self, out: Path, seed: int, *, patients: int = 0) -> None:
        self.dir = out / self.source
        self.devices = RowFile(self.dir / "devices.csv", _DEV)
        self.daily: dict[str, RowFile] = {}
        first = PERIOD_END - timedelta(days=DAYS - 1)
        for k in range(DAYS):
            month = (first + timedelta(days=k)).strftime("%Y-%m")
            if month not in self.daily:
                self.daily[month] = RowFile(self.dir / f"daily_{month}.csv", _DAILY)

    def emit(self, h: PersonHistory, rng: random.Random, truth: TruthWriter) -> None:
        reg = h.registration(self.source)
        dev = h.wearable
        if reg is None or dev is None:
            return
        line = self.devices.write([dev.device_id, dev.model, reg.mrn, reg.email, reg.given, reg.family,
                                   dev.start.isoformat()])
        truth.patient_record(reg, h.person.person_id, "devices", truth.rel(self.devices.path), dev.device_id,
                             f"line {line}")
        last = min(PERIOD_END, h.person.death_date or PERIOD_END)
        day = max(dev.start, PERIOD_END - timedelta(days=DAYS - 1))
        while day <= last:
            if rng.random() < 0.88:
                steps = max(0, int(rng.gauss(dev.mean_steps, dev.mean_steps * 0.3)))
                hr = int(rng.gauss(dev.resting_hr, 2.5))
                self.daily[day.strftime("%Y-%m")].write([dev.device_id, reg.mrn, reg.email, day.isoformat(), str(steps),
                                                         str(hr)])
            day += timedelta(days=1)

    def close(self, truth: TruthWriter) -> None:
        self.devices.close()
        for f in self.daily.values():
            f.close()
