/* feagi_user.cpp - YOUR code. feagi-embed build created this file once and never overwrites it:
 * regenerating the brain (a new genome version, another board) keeps what you write here.
 * Generated for genome webots_pioneer2.json on mega2560 by feagi-embed 0.1.0.
 *
 * The generated sketch (src/feagi_arduino.cpp) calls these hooks:
 *   feagi_user_setup()               once, after feagi_init(): pinMode(), Wire.begin(), ...
 *   feagi_user_before_burst(burst)   before every burst: read sensors, queue them with
 *                                    feagi_inject(FEAGI_AREA_<NAME>, x, y, z, value_q)
 *                                    (value_q = value * 2^FEAGI_F) or feagi_force_fire(...)
 *   feagi_user_on_output(area, x, y, z, k)
 *                                    per fired neuron of an output (OPU) area: drive actuators
 * Area names and dims: the "cortical areas by name" block of include/feagi_model.h. */
#ifdef ARDUINO
#include <Arduino.h>
#include "feagi_runtime.h"

extern "C" void feagi_user_setup(void)
{
}

extern "C" void feagi_user_before_burst(uint32_t burst)
{
    (void)burst;
}

extern "C" void feagi_user_on_output(uint16_t area, uint16_t x, uint16_t y, uint16_t z, uint16_t k)
{
    (void)area; (void)x; (void)y; (void)z; (void)k;
}
#endif /* ARDUINO */
