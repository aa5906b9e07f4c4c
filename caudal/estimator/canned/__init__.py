"""The pre-made Estimators (DNN, Linear, DNNLinearCombined, Baseline) and their heads."""
