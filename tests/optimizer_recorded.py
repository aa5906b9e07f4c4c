"""TensorFlow 2.21's results for tests/test_optimizer_bugs.py: each optimizer's trajectory on a scalar
variable (per dtype) and the names of the variables and update ops optimizers and moving averages make.

Printed by `python tests/test_optimizer_bugs.py` (its `_record`) with TensorFlow installed; paste its first
two tables here to record them again.
"""
EXPECTED_SCALARS = {
    'Adadelta': {
        'float16': {'values': [0.300048828125, 0.300048828125, 0.300048828125, 0.300048828125, 0.300048828125],
                    'slots': {'accum': 0.08056640625, 'accum_update': 0.0}},
        'float32': {'values': [0.30044723, 0.30089715, 0.30134684, 0.30179483, 0.3022402],
                    'slots': {'accum': 0.07692467, 'accum_update': 4.5398412e-08}},
        'float64': {'values': [0.3004472134166031, 0.3008971329695511, 0.3013468191717683,
                               0.3017947931627572, 0.3022401727073944],
                    'slots': {'accum': 0.0769247725933569, 'accum_update': 4.539843693620921e-08}},
    },
    'Adagrad': {
        'float16': {'values': [0.388427734375, 0.305908203125, 0.34375, 0.329345703125, 0.334716796875],
                    'slots': {'accumulator': 1.7197265625}},
        'float32': {'values': [0.3884652, 0.30590504, 0.34389892, 0.32941765, 0.3347768],
                    'slots': {'accumulator': 1.7296907}},
        'float64': {'values': [0.3884651750111721, 0.305905024941427, 0.34389894557323875,
                               0.3294176447183654, 0.33477680196572673],
                    'slots': {'accumulator': 1.7296901785463357}},
    },
    'Adam': {
        'float16': {'values': [0.39990234375, 0.36328125, 0.31298828125, 0.28759765625, 0.295166015625],
                    'slots': {'m': -0.02374267578125, 'v': 0.00281524658203125}},
        'float32': {'values': [0.39999998, 0.36338976, 0.31324288, 0.28750107, 0.29490626],
                    'slots': {'m': -0.023108386, 'v': 0.0028975592}},
        'float64': {'values': [0.3999999487851765, 0.3633897560657135, 0.31324289543444456,
                               0.2875010915893684, 0.29490626680224774],
                    'slots': {'m': -0.02310835714558629, 'v': 0.0028975563660316984}},
    },
    'Ftrl': {
        'float16': {'values': [0.2481689453125, 0.33984375, 0.33251953125, 0.33349609375, 0.33349609375],
                    'slots': {'accum': 2.818359375, 'linear': -5.6015625}},
        'float32': {'values': [0.24858943, 0.33996433, 0.3328327, 0.33337113, 0.33333045],
                    'slots': {'accum': 2.801143, 'linear': -5.578824}},
        'float64': {'values': [0.24858945377512512, 0.3399643403600504, 0.33283267831071517,
                               0.3333711260383061, 0.33333048049694153],
                    'slots': {'accum': 2.8011421772035203, 'linear': -5.578823200010253}},
    },
    'FtrlL1L2': {
        'float16': {'values': [0.2396240234375, 0.331298828125, 0.333251953125, 0.333251953125, 0.333251953125],
                    'slots': {'accum': 3.306640625, 'linear': -6.140625}},
        'float32': {'values': [0.24003671, 0.3317474, 0.33330616, 0.3333329, 0.3333333],
                    'slots': {'accum': 3.2809954, 'linear': -6.114506}},
        'float64': {'values': [0.2400367368087866, 0.3317474359235851, 0.33330618404712536,
                               0.33333286855846184, 0.33333332537674537],
                    'slots': {'accum': 3.280993716830414, 'linear': -6.11450426847538}},
    },
    'FtrlShrinkage': {
        'float16': {'values': [0.1778564453125, 0.324462890625, 0.32958984375, 0.32958984375, 0.329345703125],
                    'slots': {'accum': 8.3203125, 'linear': -6.22265625}},
        'float32': {'values': [0.17836675, 0.32462847, 0.32949793, 0.32966444, 0.32967013],
                    'slots': {'accum': 8.274424, 'linear': -6.2144246}},
        'float64': {'values': [0.1783667916854287, 0.3246284881054502, 0.32949797423973615,
                               0.32966440886129306, 0.3296701253222231],
                    'slots': {'accum': 8.274418088399337, 'linear': -6.2144233540216485}},
    },
    'GradientDescent': {
        'float16': {'values': [0.35986328125, 0.311767578125, 0.350341796875, 0.31982421875, 0.34423828125],
                    'slots': {}},
        'float32': {'values': [0.35999998, 0.31200004, 0.35039997, 0.31968004, 0.34425598],
                    'slots': {}},
        'float64': {'values': [0.3600000008940697, 0.3119999985694884, 0.3504000017166139,
                               0.3196799981689452, 0.3442560018310548],
                    'slots': {}},
    },
    'Momentum': {
        'float16': {'values': [0.35986328125, 0.365478515625, 0.3125, 0.302490234375, 0.34912109375],
                    'slots': {'momentum': -0.4658203125}},
        'float32': {'values': [0.35999998, 0.366, 0.3126, 0.30186003, 0.348846],
                    'slots': {'momentum': -0.46985966}},
        'float64': {'values': [0.3600000008940697, 0.3659999979436397, 0.31259999797046195,
                               0.301860003477037, 0.34884600327452986],
                    'slots': {'momentum': -0.4698599909734692}},
    },
    'MomentumNesterov': {
        'float16': {'values': [0.41357421875, 0.1881103515625, 0.611328125, -0.193359375, 1.333984375],
                    'slots': {'momentum': -6.4375}},
        'float32': {'values': [0.41399997, 0.1867201, 0.61426544, -0.19924504, 1.3451235],
                    'slots': {'momentum': -6.5080843}},
        'float64': {'values': [0.414000000268221, 0.18671999685108645, 0.6142656100634339,
                               -0.1992453392649427, 1.3451241733348258],
                    'slots': {'momentum': -6.508087715849589}},
    },
    'ProximalAdagrad': {
        'float16': {'error': ['TypeError',
                               "Input 'lr' of 'ApplyProximalAdagrad' Op has type float32 that does not match "
                               "type float16 of argument 'var'."
                              ]},
        'float32': {'values': [0.38136783, 0.2990554, 0.34448674, 0.32542133, 0.33313912],
                    'slots': {'accumulator': 1.6488495}},
        'float64': {'error': ['TypeError',
                               "Input 'lr' of 'ApplyProximalAdagrad' Op has type float32 that does not match "
                               "type float64 of argument 'var'."
                              ]},
    },
    'ProximalGradientDescent': {
        'float16': {'error': ['TypeError',
                               "Input 'alpha' of 'ApplyProximalGradientDescent' Op has type float32 that does "
                               "not match type float16 of argument 'var'."
                              ]},
        'float32': {'values': [0.35544553, 0.3115283, 0.34631425, 0.318761, 0.34058538],
                    'slots': {}},
        'float64': {'error': ['TypeError',
                               "Input 'alpha' of 'ApplyProximalGradientDescent' Op has type float32 that does "
                               "not match type float64 of argument 'var'."
                              ]},
    },
    'RMSProp': {
        'float16': {'values': [0.36181640625, 0.306640625, 0.360107421875, 0.304443359375, 0.36669921875],
                    'slots': {'momentum': -0.06231689453125, 'rms': 0.69970703125}},
        'float32': {'values': [0.36201736, 0.30663288, 0.36019105, 0.30429742, 0.36673877],
                    'slots': {'momentum': -0.06244134, 'rms': 0.70060295}},
        'float64': {'values': [0.3620173687209296, 0.3066328457825916, 0.36019107321290056,
                               0.30429734589668267, 0.3667388068080216],
                    'slots': {'momentum': -0.062441460911338974, 'rms': 0.7006031921732743}},
    },
    'RMSPropCentered': {
        'float16': {'values': [0.36181640625, 0.33740234375, 0.3173828125, 0.34130859375, 0.335693359375],
                    'slots': {'mg': -0.007720947265625, 'momentum': 0.00555419921875, 'rms': 0.642578125}},
        'float32': {'values': [0.36213696, 0.33759698, 0.31665343, 0.34173727, 0.3354369],
                    'slots': {'mg': -0.0072478335, 'momentum': 0.006300362, 'rms': 0.6445837}},
        'float64': {'values': [0.3621369780883382, 0.33759697550972756, 0.3166534075312208,
                               0.3417372698772639, 0.3354369284178599],
                    'slots': {'mg': -0.007247861253599254,
                              'momentum': 0.006300341459404021, 'rms': 0.6445837909670099}},
    },
    'RMSPropMomentum': {
        'float16': {'values': [0.36181640625, 0.33740234375, 0.317138671875, 0.341796875, 0.335205078125],
                    'slots': {'momentum': 0.0066680908203125, 'rms': 0.6435546875}},
        'float32': {'values': [0.36201736, 0.33764154, 0.3166885, 0.3416826, 0.3354576],
                    'slots': {'momentum': 0.0062250057, 'rms': 0.64436764}},
        'float64': {'values': [0.3620173687209296, 0.3376415301430564, 0.3166885373065019,
                               0.3416825863081567, 0.33545756561600365],
                    'slots': {'momentum': 0.006225020692153006, 'rms': 0.6443675842595061}},
    },
}
EXPECTED_NAMES = {
    'Adadelta:plain': {
        'variables': 'w b w/Adadelta w/Adadelta_1 b/Adadelta b/Adadelta_1',
        'ops': 'w/Adadelta/Assign w/Adadelta_1/Assign b/Adadelta/Assign b/Adadelta_1/Assign '
            'Adadelta/update_w/ApplyAdadelta Adadelta/update_b/ApplyAdadelta Adadelta',
        'train_ops': 'Adadelta',
    },
    'Adadelta:name_scope': {
        'variables': 'w b w/Adadelta w/Adadelta_1 b/Adadelta b/Adadelta_1',
        'ops': 'w/Adadelta/Assign w/Adadelta_1/Assign b/Adadelta/Assign b/Adadelta_1/Assign '
            'train/Adadelta/update_w/ApplyAdadelta train/Adadelta/update_b/ApplyAdadelta train/Adadelta',
        'train_ops': 'train/Adadelta',
    },
    'Adadelta:variable_scope': {
        'variables': 'w b outer/w/Adadelta outer/w/Adadelta_1 outer/b/Adadelta outer/b/Adadelta_1',
        'ops': 'outer/w/Adadelta/Assign outer/w/Adadelta_1/Assign outer/b/Adadelta/Assign outer/b/Adadelta_1/Assign '
            'outer/Adadelta/update_w/ApplyAdadelta outer/Adadelta/update_b/ApplyAdadelta outer/Adadelta',
        'train_ops': 'outer/Adadelta',
    },
    'Adadelta:named': {
        'variables': 'w b w/my_opt w/my_opt_1 b/my_opt b/my_opt_1',
        'ops': 'w/my_opt/Assign w/my_opt_1/Assign b/my_opt/Assign b/my_opt_1/Assign my_opt/update_w/ApplyAdadelta '
            'my_opt/update_b/ApplyAdadelta my_opt',
        'train_ops': 'my_opt',
    },
    'Adadelta:minimize_name': {
        'variables': 'w b w/Adadelta w/Adadelta_1 b/Adadelta b/Adadelta_1',
        'ops': 'w/Adadelta/Assign w/Adadelta_1/Assign b/Adadelta/Assign b/Adadelta_1/Assign '
            'train/update_w/ApplyAdadelta train/update_b/ApplyAdadelta train',
        'train_ops': 'train',
    },
    'Adadelta:global_step': {
        'variables': 'w b global_step w/Adadelta w/Adadelta_1 b/Adadelta b/Adadelta_1',
        'ops': 'global_step/Assign w/Adadelta/Assign w/Adadelta_1/Assign b/Adadelta/Assign b/Adadelta_1/Assign '
            'train/Adadelta/update_w/ApplyAdadelta train/Adadelta/update_b/ApplyAdadelta train/Adadelta/update '
            'train/Adadelta',
        'train_ops': 'train/Adadelta',
    },
    'Adadelta:two': {
        'variables': 'w b w/Adadelta w/Adadelta_1 b/Adadelta b/Adadelta_1',
        'ops': 'w/Adadelta/Assign w/Adadelta_1/Assign Adadelta/update_w/ApplyAdadelta Adadelta b/Adadelta/Assign '
            'b/Adadelta_1/Assign Adadelta_1/update_b/ApplyAdadelta Adadelta_1',
        'train_ops': 'Adadelta Adadelta_1',
    },
    'Adadelta:two_same': {
        'variables': 'w b w/Adadelta w/Adadelta_1 b/Adadelta b/Adadelta_1 w/Adadelta_2 w/Adadelta_3 b/Adadelta_2 '
            'b/Adadelta_3',
        'ops': 'w/Adadelta/Assign w/Adadelta_1/Assign b/Adadelta/Assign b/Adadelta_1/Assign '
            'Adadelta/update_w/ApplyAdadelta Adadelta/update_b/ApplyAdadelta Adadelta w/Adadelta_2/Assign '
            'w/Adadelta_3/Assign b/Adadelta_2/Assign b/Adadelta_3/Assign Adadelta_1/update_w/ApplyAdadelta '
            'Adadelta_1/update_b/ApplyAdadelta Adadelta_1',
        'train_ops': 'Adadelta Adadelta_1',
    },
    'Adadelta:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/Adadelta outer/outer/w/Adadelta_1 outer/outer/b/Adadelta '
            'outer/outer/b/Adadelta_1',
        'ops': 'outer/outer/w/Adadelta/Assign outer/outer/w/Adadelta_1/Assign outer/outer/b/Adadelta/Assign '
            'outer/outer/b/Adadelta_1/Assign outer/Adadelta/update_outer/w/ApplyAdadelta '
            'outer/Adadelta/update_outer/b/ApplyAdadelta outer/Adadelta',
        'train_ops': 'outer/Adadelta',
    },
    'Adagrad:plain': {
        'variables': 'w b w/Adagrad b/Adagrad',
        'ops': 'w/Adagrad/Assign b/Adagrad/Assign Adagrad/update_w/ApplyAdagrad Adagrad/update_b/ApplyAdagrad '
            'Adagrad',
        'train_ops': 'Adagrad',
    },
    'Adagrad:name_scope': {
        'variables': 'w b w/Adagrad b/Adagrad',
        'ops': 'w/Adagrad/Assign b/Adagrad/Assign train/Adagrad/update_w/ApplyAdagrad '
            'train/Adagrad/update_b/ApplyAdagrad train/Adagrad',
        'train_ops': 'train/Adagrad',
    },
    'Adagrad:variable_scope': {
        'variables': 'w b outer/w/Adagrad outer/b/Adagrad',
        'ops': 'outer/w/Adagrad/Assign outer/b/Adagrad/Assign outer/Adagrad/update_w/ApplyAdagrad '
            'outer/Adagrad/update_b/ApplyAdagrad outer/Adagrad',
        'train_ops': 'outer/Adagrad',
    },
    'Adagrad:named': {
        'variables': 'w b w/my_opt b/my_opt',
        'ops': 'w/my_opt/Assign b/my_opt/Assign my_opt/update_w/ApplyAdagrad my_opt/update_b/ApplyAdagrad my_opt',
        'train_ops': 'my_opt',
    },
    'Adagrad:minimize_name': {
        'variables': 'w b w/Adagrad b/Adagrad',
        'ops': 'w/Adagrad/Assign b/Adagrad/Assign train/update_w/ApplyAdagrad train/update_b/ApplyAdagrad train',
        'train_ops': 'train',
    },
    'Adagrad:global_step': {
        'variables': 'w b global_step w/Adagrad b/Adagrad',
        'ops': 'global_step/Assign w/Adagrad/Assign b/Adagrad/Assign train/Adagrad/update_w/ApplyAdagrad '
            'train/Adagrad/update_b/ApplyAdagrad train/Adagrad/update train/Adagrad',
        'train_ops': 'train/Adagrad',
    },
    'Adagrad:two': {
        'variables': 'w b w/Adagrad b/Adagrad',
        'ops': 'w/Adagrad/Assign Adagrad/update_w/ApplyAdagrad Adagrad b/Adagrad/Assign '
            'Adagrad_1/update_b/ApplyAdagrad Adagrad_1',
        'train_ops': 'Adagrad Adagrad_1',
    },
    'Adagrad:two_same': {
        'variables': 'w b w/Adagrad b/Adagrad w/Adagrad_1 b/Adagrad_1',
        'ops': 'w/Adagrad/Assign b/Adagrad/Assign Adagrad/update_w/ApplyAdagrad Adagrad/update_b/ApplyAdagrad '
            'Adagrad w/Adagrad_1/Assign b/Adagrad_1/Assign Adagrad_1/update_w/ApplyAdagrad '
            'Adagrad_1/update_b/ApplyAdagrad Adagrad_1',
        'train_ops': 'Adagrad Adagrad_1',
    },
    'Adagrad:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/Adagrad outer/outer/b/Adagrad',
        'ops': 'outer/outer/w/Adagrad/Assign outer/outer/b/Adagrad/Assign outer/Adagrad/update_outer/w/ApplyAdagrad '
            'outer/Adagrad/update_outer/b/ApplyAdagrad outer/Adagrad',
        'train_ops': 'outer/Adagrad',
    },
    'Adam:plain': {
        'variables': 'w b beta1_power beta2_power w/Adam w/Adam_1 b/Adam b/Adam_1',
        'ops': 'beta1_power/Assign beta2_power/Assign w/Adam/Assign w/Adam_1/Assign b/Adam/Assign b/Adam_1/Assign '
            'Adam/update_w/ApplyAdam Adam/update_b/ApplyAdam Adam/Assign Adam/Assign_1 Adam',
        'train_ops': 'Adam',
    },
    'Adam:name_scope': {
        'variables': 'w b train/beta1_power train/beta2_power w/Adam w/Adam_1 b/Adam b/Adam_1',
        'ops': 'train/beta1_power/Assign train/beta2_power/Assign w/Adam/Assign w/Adam_1/Assign b/Adam/Assign '
            'b/Adam_1/Assign train/Adam/update_w/ApplyAdam train/Adam/update_b/ApplyAdam train/Adam/Assign '
            'train/Adam/Assign_1 train/Adam',
        'train_ops': 'train/Adam',
    },
    'Adam:variable_scope': {
        'variables': 'w b outer/beta1_power outer/beta2_power outer/w/Adam outer/w/Adam_1 outer/b/Adam outer/b/Adam_1',
        'ops': 'outer/beta1_power/Assign outer/beta2_power/Assign outer/w/Adam/Assign outer/w/Adam_1/Assign '
            'outer/b/Adam/Assign outer/b/Adam_1/Assign outer/Adam/update_w/ApplyAdam '
            'outer/Adam/update_b/ApplyAdam outer/Adam/Assign outer/Adam/Assign_1 outer/Adam',
        'train_ops': 'outer/Adam',
    },
    'Adam:named': {
        'variables': 'w b beta1_power beta2_power w/my_opt w/my_opt_1 b/my_opt b/my_opt_1',
        'ops': 'beta1_power/Assign beta2_power/Assign w/my_opt/Assign w/my_opt_1/Assign b/my_opt/Assign '
            'b/my_opt_1/Assign my_opt/update_w/ApplyAdam my_opt/update_b/ApplyAdam my_opt/Assign my_opt/Assign_1 '
            'my_opt',
        'train_ops': 'my_opt',
    },
    'Adam:minimize_name': {
        'variables': 'w b beta1_power beta2_power w/Adam w/Adam_1 b/Adam b/Adam_1',
        'ops': 'beta1_power/Assign beta2_power/Assign w/Adam/Assign w/Adam_1/Assign b/Adam/Assign b/Adam_1/Assign '
            'train/update_w/ApplyAdam train/update_b/ApplyAdam train/Assign train/Assign_1 train',
        'train_ops': 'train',
    },
    'Adam:global_step': {
        'variables': 'w b global_step train/beta1_power train/beta2_power w/Adam w/Adam_1 b/Adam b/Adam_1',
        'ops': 'global_step/Assign train/beta1_power/Assign train/beta2_power/Assign w/Adam/Assign w/Adam_1/Assign '
            'b/Adam/Assign b/Adam_1/Assign train/Adam/update_w/ApplyAdam train/Adam/update_b/ApplyAdam '
            'train/Adam/Assign train/Adam/Assign_1 train/Adam/update train/Adam',
        'train_ops': 'train/Adam',
    },
    'Adam:two': {
        'variables': 'w b beta1_power beta2_power w/Adam w/Adam_1 beta1_power_1 beta2_power_1 b/Adam b/Adam_1',
        'ops': 'beta1_power/Assign beta2_power/Assign w/Adam/Assign w/Adam_1/Assign Adam/update_w/ApplyAdam '
            'Adam/Assign Adam/Assign_1 Adam beta1_power_1/Assign beta2_power_1/Assign b/Adam/Assign '
            'b/Adam_1/Assign Adam_1/update_b/ApplyAdam Adam_1/Assign Adam_1/Assign_1 Adam_1',
        'train_ops': 'Adam Adam_1',
    },
    'Adam:two_same': {
        'variables': 'w b beta1_power beta2_power w/Adam w/Adam_1 b/Adam b/Adam_1 beta1_power_1 beta2_power_1 w/Adam_2 '
            'w/Adam_3 b/Adam_2 b/Adam_3',
        'ops': 'beta1_power/Assign beta2_power/Assign w/Adam/Assign w/Adam_1/Assign b/Adam/Assign b/Adam_1/Assign '
            'Adam/update_w/ApplyAdam Adam/update_b/ApplyAdam Adam/Assign Adam/Assign_1 Adam beta1_power_1/Assign '
            'beta2_power_1/Assign w/Adam_2/Assign w/Adam_3/Assign b/Adam_2/Assign b/Adam_3/Assign '
            'Adam_1/update_w/ApplyAdam Adam_1/update_b/ApplyAdam Adam_1/Assign Adam_1/Assign_1 Adam_1',
        'train_ops': 'Adam Adam_1',
    },
    'Adam:variables_in_scope': {
        'variables': 'outer/w outer/b outer/beta1_power outer/beta2_power outer/outer/w/Adam outer/outer/w/Adam_1 '
            'outer/outer/b/Adam outer/outer/b/Adam_1',
        'ops': 'outer/beta1_power/Assign outer/beta2_power/Assign outer/outer/w/Adam/Assign '
            'outer/outer/w/Adam_1/Assign outer/outer/b/Adam/Assign outer/outer/b/Adam_1/Assign '
            'outer/Adam/update_outer/w/ApplyAdam outer/Adam/update_outer/b/ApplyAdam outer/Adam/Assign '
            'outer/Adam/Assign_1 outer/Adam',
        'train_ops': 'outer/Adam',
    },
    'Ftrl:plain': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign Ftrl/update_w/ApplyFtrl '
            'Ftrl/update_b/ApplyFtrl Ftrl',
        'train_ops': 'Ftrl',
    },
    'Ftrl:name_scope': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign train/Ftrl/update_w/ApplyFtrl '
            'train/Ftrl/update_b/ApplyFtrl train/Ftrl',
        'train_ops': 'train/Ftrl',
    },
    'Ftrl:variable_scope': {
        'variables': 'w b outer/w/Ftrl outer/w/Ftrl_1 outer/b/Ftrl outer/b/Ftrl_1',
        'ops': 'outer/w/Ftrl/Assign outer/w/Ftrl_1/Assign outer/b/Ftrl/Assign outer/b/Ftrl_1/Assign '
            'outer/Ftrl/update_w/ApplyFtrl outer/Ftrl/update_b/ApplyFtrl outer/Ftrl',
        'train_ops': 'outer/Ftrl',
    },
    'Ftrl:named': {
        'variables': 'w b w/my_opt w/my_opt_1 b/my_opt b/my_opt_1',
        'ops': 'w/my_opt/Assign w/my_opt_1/Assign b/my_opt/Assign b/my_opt_1/Assign my_opt/update_w/ApplyFtrl '
            'my_opt/update_b/ApplyFtrl my_opt',
        'train_ops': 'my_opt',
    },
    'Ftrl:minimize_name': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign train/update_w/ApplyFtrl '
            'train/update_b/ApplyFtrl train',
        'train_ops': 'train',
    },
    'Ftrl:global_step': {
        'variables': 'w b global_step w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'global_step/Assign w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign '
            'train/Ftrl/update_w/ApplyFtrl train/Ftrl/update_b/ApplyFtrl train/Ftrl/update train/Ftrl',
        'train_ops': 'train/Ftrl',
    },
    'Ftrl:two': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign Ftrl/update_w/ApplyFtrl Ftrl b/Ftrl/Assign b/Ftrl_1/Assign '
            'Ftrl_1/update_b/ApplyFtrl Ftrl_1',
        'train_ops': 'Ftrl Ftrl_1',
    },
    'Ftrl:two_same': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1 w/Ftrl_2 w/Ftrl_3 b/Ftrl_2 b/Ftrl_3',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign Ftrl/update_w/ApplyFtrl '
            'Ftrl/update_b/ApplyFtrl Ftrl w/Ftrl_2/Assign w/Ftrl_3/Assign b/Ftrl_2/Assign b/Ftrl_3/Assign '
            'Ftrl_1/update_w/ApplyFtrl Ftrl_1/update_b/ApplyFtrl Ftrl_1',
        'train_ops': 'Ftrl Ftrl_1',
    },
    'Ftrl:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/Ftrl outer/outer/w/Ftrl_1 outer/outer/b/Ftrl outer/outer/b/Ftrl_1',
        'ops': 'outer/outer/w/Ftrl/Assign outer/outer/w/Ftrl_1/Assign outer/outer/b/Ftrl/Assign '
            'outer/outer/b/Ftrl_1/Assign outer/Ftrl/update_outer/w/ApplyFtrl outer/Ftrl/update_outer/b/ApplyFtrl '
            'outer/Ftrl',
        'train_ops': 'outer/Ftrl',
    },
    'FtrlNamedSlots:plain': {
        'variables': 'w b w/acc w/lin b/acc b/lin',
        'ops': 'w/acc/Assign w/lin/Assign b/acc/Assign b/lin/Assign Ftrl/update_w/ApplyFtrl Ftrl/update_b/ApplyFtrl '
            'Ftrl',
        'train_ops': 'Ftrl',
    },
    'FtrlNamedSlots:name_scope': {
        'variables': 'w b w/acc w/lin b/acc b/lin',
        'ops': 'w/acc/Assign w/lin/Assign b/acc/Assign b/lin/Assign train/Ftrl/update_w/ApplyFtrl '
            'train/Ftrl/update_b/ApplyFtrl train/Ftrl',
        'train_ops': 'train/Ftrl',
    },
    'FtrlNamedSlots:variable_scope': {
        'variables': 'w b outer/w/acc outer/w/lin outer/b/acc outer/b/lin',
        'ops': 'outer/w/acc/Assign outer/w/lin/Assign outer/b/acc/Assign outer/b/lin/Assign '
            'outer/Ftrl/update_w/ApplyFtrl outer/Ftrl/update_b/ApplyFtrl outer/Ftrl',
        'train_ops': 'outer/Ftrl',
    },
    'FtrlNamedSlots:named': {
        'variables': 'w b w/acc w/lin b/acc b/lin',
        'ops': 'w/acc/Assign w/lin/Assign b/acc/Assign b/lin/Assign my_opt/update_w/ApplyFtrl '
            'my_opt/update_b/ApplyFtrl my_opt',
        'train_ops': 'my_opt',
    },
    'FtrlNamedSlots:minimize_name': {
        'variables': 'w b w/acc w/lin b/acc b/lin',
        'ops': 'w/acc/Assign w/lin/Assign b/acc/Assign b/lin/Assign train/update_w/ApplyFtrl '
            'train/update_b/ApplyFtrl train',
        'train_ops': 'train',
    },
    'FtrlNamedSlots:global_step': {
        'variables': 'w b global_step w/acc w/lin b/acc b/lin',
        'ops': 'global_step/Assign w/acc/Assign w/lin/Assign b/acc/Assign b/lin/Assign train/Ftrl/update_w/ApplyFtrl'
            ' train/Ftrl/update_b/ApplyFtrl train/Ftrl/update train/Ftrl',
        'train_ops': 'train/Ftrl',
    },
    'FtrlNamedSlots:two': {
        'variables': 'w b w/acc w/lin b/acc b/lin',
        'ops': 'w/acc/Assign w/lin/Assign Ftrl/update_w/ApplyFtrl Ftrl b/acc/Assign b/lin/Assign '
            'Ftrl_1/update_b/ApplyFtrl Ftrl_1',
        'train_ops': 'Ftrl Ftrl_1',
    },
    'FtrlNamedSlots:two_same': {
        'variables': 'w b w/acc w/lin b/acc b/lin w/acc_1 w/lin_1 b/acc_1 b/lin_1',
        'ops': 'w/acc/Assign w/lin/Assign b/acc/Assign b/lin/Assign Ftrl/update_w/ApplyFtrl Ftrl/update_b/ApplyFtrl '
            'Ftrl w/acc_1/Assign w/lin_1/Assign b/acc_1/Assign b/lin_1/Assign Ftrl_1/update_w/ApplyFtrl '
            'Ftrl_1/update_b/ApplyFtrl Ftrl_1',
        'train_ops': 'Ftrl Ftrl_1',
    },
    'FtrlNamedSlots:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/acc outer/outer/w/lin outer/outer/b/acc outer/outer/b/lin',
        'ops': 'outer/outer/w/acc/Assign outer/outer/w/lin/Assign outer/outer/b/acc/Assign outer/outer/b/lin/Assign '
            'outer/Ftrl/update_outer/w/ApplyFtrl outer/Ftrl/update_outer/b/ApplyFtrl outer/Ftrl',
        'train_ops': 'outer/Ftrl',
    },
    'FtrlShrinkage:plain': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign Ftrl/update_w/ApplyFtrlV2 '
            'Ftrl/update_b/ApplyFtrlV2 Ftrl',
        'train_ops': 'Ftrl',
    },
    'FtrlShrinkage:name_scope': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign train/Ftrl/update_w/ApplyFtrlV2 '
            'train/Ftrl/update_b/ApplyFtrlV2 train/Ftrl',
        'train_ops': 'train/Ftrl',
    },
    'FtrlShrinkage:variable_scope': {
        'variables': 'w b outer/w/Ftrl outer/w/Ftrl_1 outer/b/Ftrl outer/b/Ftrl_1',
        'ops': 'outer/w/Ftrl/Assign outer/w/Ftrl_1/Assign outer/b/Ftrl/Assign outer/b/Ftrl_1/Assign '
            'outer/Ftrl/update_w/ApplyFtrlV2 outer/Ftrl/update_b/ApplyFtrlV2 outer/Ftrl',
        'train_ops': 'outer/Ftrl',
    },
    'FtrlShrinkage:named': {
        'variables': 'w b w/my_opt w/my_opt_1 b/my_opt b/my_opt_1',
        'ops': 'w/my_opt/Assign w/my_opt_1/Assign b/my_opt/Assign b/my_opt_1/Assign my_opt/update_w/ApplyFtrlV2 '
            'my_opt/update_b/ApplyFtrlV2 my_opt',
        'train_ops': 'my_opt',
    },
    'FtrlShrinkage:minimize_name': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign train/update_w/ApplyFtrlV2 '
            'train/update_b/ApplyFtrlV2 train',
        'train_ops': 'train',
    },
    'FtrlShrinkage:global_step': {
        'variables': 'w b global_step w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'global_step/Assign w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign '
            'train/Ftrl/update_w/ApplyFtrlV2 train/Ftrl/update_b/ApplyFtrlV2 train/Ftrl/update train/Ftrl',
        'train_ops': 'train/Ftrl',
    },
    'FtrlShrinkage:two': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign Ftrl/update_w/ApplyFtrlV2 Ftrl b/Ftrl/Assign b/Ftrl_1/Assign '
            'Ftrl_1/update_b/ApplyFtrlV2 Ftrl_1',
        'train_ops': 'Ftrl Ftrl_1',
    },
    'FtrlShrinkage:two_same': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1 w/Ftrl_2 w/Ftrl_3 b/Ftrl_2 b/Ftrl_3',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign Ftrl/update_w/ApplyFtrlV2 '
            'Ftrl/update_b/ApplyFtrlV2 Ftrl w/Ftrl_2/Assign w/Ftrl_3/Assign b/Ftrl_2/Assign b/Ftrl_3/Assign '
            'Ftrl_1/update_w/ApplyFtrlV2 Ftrl_1/update_b/ApplyFtrlV2 Ftrl_1',
        'train_ops': 'Ftrl Ftrl_1',
    },
    'FtrlShrinkage:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/Ftrl outer/outer/w/Ftrl_1 outer/outer/b/Ftrl outer/outer/b/Ftrl_1',
        'ops': 'outer/outer/w/Ftrl/Assign outer/outer/w/Ftrl_1/Assign outer/outer/b/Ftrl/Assign '
            'outer/outer/b/Ftrl_1/Assign outer/Ftrl/update_outer/w/ApplyFtrlV2 '
            'outer/Ftrl/update_outer/b/ApplyFtrlV2 outer/Ftrl',
        'train_ops': 'outer/Ftrl',
    },
    'GradientDescent:plain': {
        'variables': 'w b',
        'ops': 'GradientDescent/update_w/ApplyGradientDescent GradientDescent/update_b/ApplyGradientDescent '
            'GradientDescent',
        'train_ops': 'GradientDescent',
    },
    'GradientDescent:name_scope': {
        'variables': 'w b',
        'ops': 'train/GradientDescent/update_w/ApplyGradientDescent '
            'train/GradientDescent/update_b/ApplyGradientDescent train/GradientDescent',
        'train_ops': 'train/GradientDescent',
    },
    'GradientDescent:variable_scope': {
        'variables': 'w b',
        'ops': 'outer/GradientDescent/update_w/ApplyGradientDescent '
            'outer/GradientDescent/update_b/ApplyGradientDescent outer/GradientDescent',
        'train_ops': 'outer/GradientDescent',
    },
    'GradientDescent:named': {
        'variables': 'w b',
        'ops': 'my_opt/update_w/ApplyGradientDescent my_opt/update_b/ApplyGradientDescent my_opt',
        'train_ops': 'my_opt',
    },
    'GradientDescent:minimize_name': {
        'variables': 'w b',
        'ops': 'train/update_w/ApplyGradientDescent train/update_b/ApplyGradientDescent train',
        'train_ops': 'train',
    },
    'GradientDescent:global_step': {
        'variables': 'w b global_step',
        'ops': 'global_step/Assign train/GradientDescent/update_w/ApplyGradientDescent '
            'train/GradientDescent/update_b/ApplyGradientDescent train/GradientDescent/update '
            'train/GradientDescent',
        'train_ops': 'train/GradientDescent',
    },
    'GradientDescent:two': {
        'variables': 'w b',
        'ops': 'GradientDescent/update_w/ApplyGradientDescent GradientDescent '
            'GradientDescent_1/update_b/ApplyGradientDescent GradientDescent_1',
        'train_ops': 'GradientDescent GradientDescent_1',
    },
    'GradientDescent:two_same': {
        'variables': 'w b',
        'ops': 'GradientDescent/update_w/ApplyGradientDescent GradientDescent/update_b/ApplyGradientDescent '
            'GradientDescent GradientDescent_1/update_w/ApplyGradientDescent '
            'GradientDescent_1/update_b/ApplyGradientDescent GradientDescent_1',
        'train_ops': 'GradientDescent GradientDescent_1',
    },
    'GradientDescent:variables_in_scope': {
        'variables': 'outer/w outer/b',
        'ops': 'outer/GradientDescent/update_outer/w/ApplyGradientDescent '
            'outer/GradientDescent/update_outer/b/ApplyGradientDescent outer/GradientDescent',
        'train_ops': 'outer/GradientDescent',
    },
    'Momentum:plain': {
        'variables': 'w b w/Momentum b/Momentum',
        'ops': 'w/Momentum/Assign b/Momentum/Assign Momentum/update_w/ApplyMomentum Momentum/update_b/ApplyMomentum '
            'Momentum',
        'train_ops': 'Momentum',
    },
    'Momentum:name_scope': {
        'variables': 'w b w/Momentum b/Momentum',
        'ops': 'w/Momentum/Assign b/Momentum/Assign train/Momentum/update_w/ApplyMomentum '
            'train/Momentum/update_b/ApplyMomentum train/Momentum',
        'train_ops': 'train/Momentum',
    },
    'Momentum:variable_scope': {
        'variables': 'w b outer/w/Momentum outer/b/Momentum',
        'ops': 'outer/w/Momentum/Assign outer/b/Momentum/Assign outer/Momentum/update_w/ApplyMomentum '
            'outer/Momentum/update_b/ApplyMomentum outer/Momentum',
        'train_ops': 'outer/Momentum',
    },
    'Momentum:named': {
        'variables': 'w b w/my_opt b/my_opt',
        'ops': 'w/my_opt/Assign b/my_opt/Assign my_opt/update_w/ApplyMomentum my_opt/update_b/ApplyMomentum my_opt',
        'train_ops': 'my_opt',
    },
    'Momentum:minimize_name': {
        'variables': 'w b w/Momentum b/Momentum',
        'ops': 'w/Momentum/Assign b/Momentum/Assign train/update_w/ApplyMomentum train/update_b/ApplyMomentum train',
        'train_ops': 'train',
    },
    'Momentum:global_step': {
        'variables': 'w b global_step w/Momentum b/Momentum',
        'ops': 'global_step/Assign w/Momentum/Assign b/Momentum/Assign train/Momentum/update_w/ApplyMomentum '
            'train/Momentum/update_b/ApplyMomentum train/Momentum/update train/Momentum',
        'train_ops': 'train/Momentum',
    },
    'Momentum:two': {
        'variables': 'w b w/Momentum b/Momentum',
        'ops': 'w/Momentum/Assign Momentum/update_w/ApplyMomentum Momentum b/Momentum/Assign '
            'Momentum_1/update_b/ApplyMomentum Momentum_1',
        'train_ops': 'Momentum Momentum_1',
    },
    'Momentum:two_same': {
        'variables': 'w b w/Momentum b/Momentum w/Momentum_1 b/Momentum_1',
        'ops': 'w/Momentum/Assign b/Momentum/Assign Momentum/update_w/ApplyMomentum Momentum/update_b/ApplyMomentum '
            'Momentum w/Momentum_1/Assign b/Momentum_1/Assign Momentum_1/update_w/ApplyMomentum '
            'Momentum_1/update_b/ApplyMomentum Momentum_1',
        'train_ops': 'Momentum Momentum_1',
    },
    'Momentum:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/Momentum outer/outer/b/Momentum',
        'ops': 'outer/outer/w/Momentum/Assign outer/outer/b/Momentum/Assign '
            'outer/Momentum/update_outer/w/ApplyMomentum outer/Momentum/update_outer/b/ApplyMomentum '
            'outer/Momentum',
        'train_ops': 'outer/Momentum',
    },
    'ProximalAdagrad:plain': {
        'variables': 'w b w/ProximalAdagrad b/ProximalAdagrad',
        'ops': 'w/ProximalAdagrad/Assign b/ProximalAdagrad/Assign ProximalAdagrad/update_w/ApplyProximalAdagrad '
            'ProximalAdagrad/update_b/ApplyProximalAdagrad ProximalAdagrad',
        'train_ops': 'ProximalAdagrad',
    },
    'ProximalAdagrad:name_scope': {
        'variables': 'w b w/ProximalAdagrad b/ProximalAdagrad',
        'ops': 'w/ProximalAdagrad/Assign b/ProximalAdagrad/Assign '
            'train/ProximalAdagrad/update_w/ApplyProximalAdagrad '
            'train/ProximalAdagrad/update_b/ApplyProximalAdagrad train/ProximalAdagrad',
        'train_ops': 'train/ProximalAdagrad',
    },
    'ProximalAdagrad:variable_scope': {
        'variables': 'w b outer/w/ProximalAdagrad outer/b/ProximalAdagrad',
        'ops': 'outer/w/ProximalAdagrad/Assign outer/b/ProximalAdagrad/Assign '
            'outer/ProximalAdagrad/update_w/ApplyProximalAdagrad '
            'outer/ProximalAdagrad/update_b/ApplyProximalAdagrad outer/ProximalAdagrad',
        'train_ops': 'outer/ProximalAdagrad',
    },
    'ProximalAdagrad:named': {
        'variables': 'w b w/my_opt b/my_opt',
        'ops': 'w/my_opt/Assign b/my_opt/Assign my_opt/update_w/ApplyProximalAdagrad '
            'my_opt/update_b/ApplyProximalAdagrad my_opt',
        'train_ops': 'my_opt',
    },
    'ProximalAdagrad:minimize_name': {
        'variables': 'w b w/ProximalAdagrad b/ProximalAdagrad',
        'ops': 'w/ProximalAdagrad/Assign b/ProximalAdagrad/Assign train/update_w/ApplyProximalAdagrad '
            'train/update_b/ApplyProximalAdagrad train',
        'train_ops': 'train',
    },
    'ProximalAdagrad:global_step': {
        'variables': 'w b global_step w/ProximalAdagrad b/ProximalAdagrad',
        'ops': 'global_step/Assign w/ProximalAdagrad/Assign b/ProximalAdagrad/Assign '
            'train/ProximalAdagrad/update_w/ApplyProximalAdagrad '
            'train/ProximalAdagrad/update_b/ApplyProximalAdagrad train/ProximalAdagrad/update '
            'train/ProximalAdagrad',
        'train_ops': 'train/ProximalAdagrad',
    },
    'ProximalAdagrad:two': {
        'variables': 'w b w/ProximalAdagrad b/ProximalAdagrad',
        'ops': 'w/ProximalAdagrad/Assign ProximalAdagrad/update_w/ApplyProximalAdagrad ProximalAdagrad '
            'b/ProximalAdagrad/Assign ProximalAdagrad_1/update_b/ApplyProximalAdagrad ProximalAdagrad_1',
        'train_ops': 'ProximalAdagrad ProximalAdagrad_1',
    },
    'ProximalAdagrad:two_same': {
        'variables': 'w b w/ProximalAdagrad b/ProximalAdagrad w/ProximalAdagrad_1 b/ProximalAdagrad_1',
        'ops': 'w/ProximalAdagrad/Assign b/ProximalAdagrad/Assign ProximalAdagrad/update_w/ApplyProximalAdagrad '
            'ProximalAdagrad/update_b/ApplyProximalAdagrad ProximalAdagrad w/ProximalAdagrad_1/Assign '
            'b/ProximalAdagrad_1/Assign ProximalAdagrad_1/update_w/ApplyProximalAdagrad '
            'ProximalAdagrad_1/update_b/ApplyProximalAdagrad ProximalAdagrad_1',
        'train_ops': 'ProximalAdagrad ProximalAdagrad_1',
    },
    'ProximalAdagrad:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/ProximalAdagrad outer/outer/b/ProximalAdagrad',
        'ops': 'outer/outer/w/ProximalAdagrad/Assign outer/outer/b/ProximalAdagrad/Assign '
            'outer/ProximalAdagrad/update_outer/w/ApplyProximalAdagrad '
            'outer/ProximalAdagrad/update_outer/b/ApplyProximalAdagrad outer/ProximalAdagrad',
        'train_ops': 'outer/ProximalAdagrad',
    },
    'ProximalGradientDescent:plain': {
        'variables': 'w b',
        'ops': 'ProximalGradientDescent/update_w/ApplyProximalGradientDescent '
            'ProximalGradientDescent/update_b/ApplyProximalGradientDescent ProximalGradientDescent',
        'train_ops': 'ProximalGradientDescent',
    },
    'ProximalGradientDescent:name_scope': {
        'variables': 'w b',
        'ops': 'train/ProximalGradientDescent/update_w/ApplyProximalGradientDescent '
            'train/ProximalGradientDescent/update_b/ApplyProximalGradientDescent train/ProximalGradientDescent',
        'train_ops': 'train/ProximalGradientDescent',
    },
    'ProximalGradientDescent:variable_scope': {
        'variables': 'w b',
        'ops': 'outer/ProximalGradientDescent/update_w/ApplyProximalGradientDescent '
            'outer/ProximalGradientDescent/update_b/ApplyProximalGradientDescent outer/ProximalGradientDescent',
        'train_ops': 'outer/ProximalGradientDescent',
    },
    'ProximalGradientDescent:named': {
        'variables': 'w b',
        'ops': 'my_opt/update_w/ApplyProximalGradientDescent my_opt/update_b/ApplyProximalGradientDescent my_opt',
        'train_ops': 'my_opt',
    },
    'ProximalGradientDescent:minimize_name': {
        'variables': 'w b',
        'ops': 'train/update_w/ApplyProximalGradientDescent train/update_b/ApplyProximalGradientDescent train',
        'train_ops': 'train',
    },
    'ProximalGradientDescent:global_step': {
        'variables': 'w b global_step',
        'ops': 'global_step/Assign train/ProximalGradientDescent/update_w/ApplyProximalGradientDescent '
            'train/ProximalGradientDescent/update_b/ApplyProximalGradientDescent '
            'train/ProximalGradientDescent/update train/ProximalGradientDescent',
        'train_ops': 'train/ProximalGradientDescent',
    },
    'ProximalGradientDescent:two': {
        'variables': 'w b',
        'ops': 'ProximalGradientDescent/update_w/ApplyProximalGradientDescent ProximalGradientDescent '
            'ProximalGradientDescent_1/update_b/ApplyProximalGradientDescent ProximalGradientDescent_1',
        'train_ops': 'ProximalGradientDescent ProximalGradientDescent_1',
    },
    'ProximalGradientDescent:two_same': {
        'variables': 'w b',
        'ops': 'ProximalGradientDescent/update_w/ApplyProximalGradientDescent '
            'ProximalGradientDescent/update_b/ApplyProximalGradientDescent ProximalGradientDescent '
            'ProximalGradientDescent_1/update_w/ApplyProximalGradientDescent '
            'ProximalGradientDescent_1/update_b/ApplyProximalGradientDescent ProximalGradientDescent_1',
        'train_ops': 'ProximalGradientDescent ProximalGradientDescent_1',
    },
    'ProximalGradientDescent:variables_in_scope': {
        'variables': 'outer/w outer/b',
        'ops': 'outer/ProximalGradientDescent/update_outer/w/ApplyProximalGradientDescent '
            'outer/ProximalGradientDescent/update_outer/b/ApplyProximalGradientDescent '
            'outer/ProximalGradientDescent',
        'train_ops': 'outer/ProximalGradientDescent',
    },
    'RMSProp:plain': {
        'variables': 'w b w/RMSProp w/RMSProp_1 b/RMSProp b/RMSProp_1',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'RMSProp/update_w/ApplyRMSProp RMSProp/update_b/ApplyRMSProp RMSProp',
        'train_ops': 'RMSProp',
    },
    'RMSProp:name_scope': {
        'variables': 'w b w/RMSProp w/RMSProp_1 b/RMSProp b/RMSProp_1',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'train/RMSProp/update_w/ApplyRMSProp train/RMSProp/update_b/ApplyRMSProp train/RMSProp',
        'train_ops': 'train/RMSProp',
    },
    'RMSProp:variable_scope': {
        'variables': 'w b outer/w/RMSProp outer/w/RMSProp_1 outer/b/RMSProp outer/b/RMSProp_1',
        'ops': 'outer/w/RMSProp/Assign outer/w/RMSProp_1/Assign outer/b/RMSProp/Assign outer/b/RMSProp_1/Assign '
            'outer/RMSProp/update_w/ApplyRMSProp outer/RMSProp/update_b/ApplyRMSProp outer/RMSProp',
        'train_ops': 'outer/RMSProp',
    },
    'RMSProp:named': {
        'variables': 'w b w/my_opt w/my_opt_1 b/my_opt b/my_opt_1',
        'ops': 'w/my_opt/Assign w/my_opt_1/Assign b/my_opt/Assign b/my_opt_1/Assign my_opt/update_w/ApplyRMSProp '
            'my_opt/update_b/ApplyRMSProp my_opt',
        'train_ops': 'my_opt',
    },
    'RMSProp:minimize_name': {
        'variables': 'w b w/RMSProp w/RMSProp_1 b/RMSProp b/RMSProp_1',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign b/RMSProp/Assign b/RMSProp_1/Assign train/update_w/ApplyRMSProp '
            'train/update_b/ApplyRMSProp train',
        'train_ops': 'train',
    },
    'RMSProp:global_step': {
        'variables': 'w b global_step w/RMSProp w/RMSProp_1 b/RMSProp b/RMSProp_1',
        'ops': 'global_step/Assign w/RMSProp/Assign w/RMSProp_1/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'train/RMSProp/update_w/ApplyRMSProp train/RMSProp/update_b/ApplyRMSProp train/RMSProp/update '
            'train/RMSProp',
        'train_ops': 'train/RMSProp',
    },
    'RMSProp:two': {
        'variables': 'w b w/RMSProp w/RMSProp_1 b/RMSProp b/RMSProp_1',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign RMSProp/update_w/ApplyRMSProp RMSProp b/RMSProp/Assign '
            'b/RMSProp_1/Assign RMSProp_1/update_b/ApplyRMSProp RMSProp_1',
        'train_ops': 'RMSProp RMSProp_1',
    },
    'RMSProp:two_same': {
        'variables': 'w b w/RMSProp w/RMSProp_1 b/RMSProp b/RMSProp_1 w/RMSProp_2 w/RMSProp_3 b/RMSProp_2 b/RMSProp_3',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'RMSProp/update_w/ApplyRMSProp RMSProp/update_b/ApplyRMSProp RMSProp w/RMSProp_2/Assign '
            'w/RMSProp_3/Assign b/RMSProp_2/Assign b/RMSProp_3/Assign RMSProp_1/update_w/ApplyRMSProp '
            'RMSProp_1/update_b/ApplyRMSProp RMSProp_1',
        'train_ops': 'RMSProp RMSProp_1',
    },
    'RMSProp:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/RMSProp outer/outer/w/RMSProp_1 outer/outer/b/RMSProp '
            'outer/outer/b/RMSProp_1',
        'ops': 'outer/outer/w/RMSProp/Assign outer/outer/w/RMSProp_1/Assign outer/outer/b/RMSProp/Assign '
            'outer/outer/b/RMSProp_1/Assign outer/RMSProp/update_outer/w/ApplyRMSProp '
            'outer/RMSProp/update_outer/b/ApplyRMSProp outer/RMSProp',
        'train_ops': 'outer/RMSProp',
    },
    'RMSPropCentered:plain': {
        'variables': 'w b w/RMSProp w/RMSProp_1 w/RMSProp_2 b/RMSProp b/RMSProp_1 b/RMSProp_2',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign w/RMSProp_2/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'b/RMSProp_2/Assign RMSProp/update_w/ApplyCenteredRMSProp RMSProp/update_b/ApplyCenteredRMSProp '
            'RMSProp',
        'train_ops': 'RMSProp',
    },
    'RMSPropCentered:name_scope': {
        'variables': 'w b w/RMSProp w/RMSProp_1 w/RMSProp_2 b/RMSProp b/RMSProp_1 b/RMSProp_2',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign w/RMSProp_2/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'b/RMSProp_2/Assign train/RMSProp/update_w/ApplyCenteredRMSProp '
            'train/RMSProp/update_b/ApplyCenteredRMSProp train/RMSProp',
        'train_ops': 'train/RMSProp',
    },
    'RMSPropCentered:variable_scope': {
        'variables': 'w b outer/w/RMSProp outer/w/RMSProp_1 outer/w/RMSProp_2 outer/b/RMSProp outer/b/RMSProp_1 '
            'outer/b/RMSProp_2',
        'ops': 'outer/w/RMSProp/Assign outer/w/RMSProp_1/Assign outer/w/RMSProp_2/Assign outer/b/RMSProp/Assign '
            'outer/b/RMSProp_1/Assign outer/b/RMSProp_2/Assign outer/RMSProp/update_w/ApplyCenteredRMSProp '
            'outer/RMSProp/update_b/ApplyCenteredRMSProp outer/RMSProp',
        'train_ops': 'outer/RMSProp',
    },
    'RMSPropCentered:named': {
        'variables': 'w b w/my_opt w/my_opt_1 w/my_opt_2 b/my_opt b/my_opt_1 b/my_opt_2',
        'ops': 'w/my_opt/Assign w/my_opt_1/Assign w/my_opt_2/Assign b/my_opt/Assign b/my_opt_1/Assign '
            'b/my_opt_2/Assign my_opt/update_w/ApplyCenteredRMSProp my_opt/update_b/ApplyCenteredRMSProp my_opt',
        'train_ops': 'my_opt',
    },
    'RMSPropCentered:minimize_name': {
        'variables': 'w b w/RMSProp w/RMSProp_1 w/RMSProp_2 b/RMSProp b/RMSProp_1 b/RMSProp_2',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign w/RMSProp_2/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'b/RMSProp_2/Assign train/update_w/ApplyCenteredRMSProp train/update_b/ApplyCenteredRMSProp train',
        'train_ops': 'train',
    },
    'RMSPropCentered:global_step': {
        'variables': 'w b global_step w/RMSProp w/RMSProp_1 w/RMSProp_2 b/RMSProp b/RMSProp_1 b/RMSProp_2',
        'ops': 'global_step/Assign w/RMSProp/Assign w/RMSProp_1/Assign w/RMSProp_2/Assign b/RMSProp/Assign '
            'b/RMSProp_1/Assign b/RMSProp_2/Assign train/RMSProp/update_w/ApplyCenteredRMSProp '
            'train/RMSProp/update_b/ApplyCenteredRMSProp train/RMSProp/update train/RMSProp',
        'train_ops': 'train/RMSProp',
    },
    'RMSPropCentered:two': {
        'variables': 'w b w/RMSProp w/RMSProp_1 w/RMSProp_2 b/RMSProp b/RMSProp_1 b/RMSProp_2',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign w/RMSProp_2/Assign RMSProp/update_w/ApplyCenteredRMSProp RMSProp'
            ' b/RMSProp/Assign b/RMSProp_1/Assign b/RMSProp_2/Assign RMSProp_1/update_b/ApplyCenteredRMSProp '
            'RMSProp_1',
        'train_ops': 'RMSProp RMSProp_1',
    },
    'RMSPropCentered:two_same': {
        'variables': 'w b w/RMSProp w/RMSProp_1 w/RMSProp_2 b/RMSProp b/RMSProp_1 b/RMSProp_2 w/RMSProp_3 w/RMSProp_4 '
            'w/RMSProp_5 b/RMSProp_3 b/RMSProp_4 b/RMSProp_5',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign w/RMSProp_2/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'b/RMSProp_2/Assign RMSProp/update_w/ApplyCenteredRMSProp RMSProp/update_b/ApplyCenteredRMSProp '
            'RMSProp w/RMSProp_3/Assign w/RMSProp_4/Assign w/RMSProp_5/Assign b/RMSProp_3/Assign '
            'b/RMSProp_4/Assign b/RMSProp_5/Assign RMSProp_1/update_w/ApplyCenteredRMSProp '
            'RMSProp_1/update_b/ApplyCenteredRMSProp RMSProp_1',
        'train_ops': 'RMSProp RMSProp_1',
    },
    'RMSPropCentered:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/RMSProp outer/outer/w/RMSProp_1 outer/outer/w/RMSProp_2 '
            'outer/outer/b/RMSProp outer/outer/b/RMSProp_1 outer/outer/b/RMSProp_2',
        'ops': 'outer/outer/w/RMSProp/Assign outer/outer/w/RMSProp_1/Assign outer/outer/w/RMSProp_2/Assign '
            'outer/outer/b/RMSProp/Assign outer/outer/b/RMSProp_1/Assign outer/outer/b/RMSProp_2/Assign '
            'outer/RMSProp/update_outer/w/ApplyCenteredRMSProp outer/RMSProp/update_outer/b/ApplyCenteredRMSProp '
            'outer/RMSProp',
        'train_ops': 'outer/RMSProp',
    },
    'ExponentialMovingAverage:plain': {
        'variables': 'w b w/ExponentialMovingAverage b/ExponentialMovingAverage',
    },
    'ExponentialMovingAverage:name_scope': {
        'variables': 'w b w/ExponentialMovingAverage b/ExponentialMovingAverage',
    },
    'ExponentialMovingAverage:variable_scope': {
        'variables': 'w b outer/w/ExponentialMovingAverage outer/b/ExponentialMovingAverage',
    },
    'ExponentialMovingAverage:named': {
        'variables': 'w b w/avg b/avg',
    },
    'ExponentialMovingAverage:two': {
        'variables': 'w b w/ExponentialMovingAverage w/ExponentialMovingAverage_1 b/ExponentialMovingAverage',
    },
    'ExponentialMovingAverage:tensor': {
        'variables': 'w b loss/ExponentialMovingAverage',
    },
    'ExponentialMovingAverage:tensor_zero_debias_in_variable_scope': {
        'variables': 'w b outer/loss/ExponentialMovingAverage outer/outer/loss/ExponentialMovingAverage/biased '
            'outer/outer/loss/ExponentialMovingAverage/local_step',
    },
    'ExponentialMovingAverage:num_updates': {
        'variables': 'w b global_step w/ExponentialMovingAverage b/ExponentialMovingAverage',
    },
}
