"""Fine-tune, calibrate and evaluate stance models; write self-describing model folders."""
