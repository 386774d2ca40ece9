// The simulated machine's VFIO devices as seen by lu-test: vfio::Device over a device socket
// (what `vfio_open` or RETRIEVE_FD of a device token hands out). Every operation is a request
// on the device fd itself, the way ioctls and pread/pwrite are issued on a real device fd;
// DMA memory travels as the memfd (SCM_RIGHTS) and the machine maps it into the device's IOVA
// space. The fd is a "cdev": LUO can preserve it.
#pragma once

#include <memory>
#include <string>

#include "base/fd.h"
#include "vfio/device.h"

namespace lu::sim {

std::unique_ptr<vfio::Device> make_sim_vfio_device(VfioDeviceFd fd, std::string bdf);

// The errno of a device request as an lu-test error kind (ENODEV/ENOENT not found, EBUSY busy).
ErrorKind device_error_kind(int err);

}  // namespace lu::sim
