"""Reading trained networks without TensorFlow: forward pass, answers, inside, charts, compare, robustness."""
