"""The emulator's route groups, one ``APIRouter`` each: d6's v2 and v1 routes, and the admin API."""
